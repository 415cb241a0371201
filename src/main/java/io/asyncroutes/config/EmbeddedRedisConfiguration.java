package io.asyncroutes.config;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.springframework.beans.factory.config.BeanDefinition;
import org.springframework.beans.factory.config.BeanFactoryPostProcessor;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.env.Environment;
import redis.embedded.RedisServer;

/**
 * The default profile's Redis: a real redis-server shipped inside the embedded-redis jar, bound to
 * loopback, with an append-only file under the data directory so thread state survives a restart.
 * It starts before and stops after the Redis connection factory.
 */
@Configuration(proxyBeanMethods = false)
@ConditionalOnProperty(name = "app.redis.embedded", havingValue = "true")
public class EmbeddedRedisConfiguration {

    static final String BEAN = "embeddedRedisServer";

    @Bean(name = BEAN, initMethod = "start", destroyMethod = "stop")
    public RedisServer embeddedRedisServer(Environment env) throws IOException {
        int port = env.getProperty("spring.data.redis.port", Integer.class, 6379);
        Path dir = Path.of(env.getProperty("app.data-dir", "data"), "redis").toAbsolutePath();
        Files.createDirectories(dir);
        return RedisServer.newRedisServer()
                .port(port)
                .bind("127.0.0.1")
                .setting("dir " + dir.toString().replace(File.separatorChar, '/'))
                .setting("appendonly yes")
                .setting("save \"\"")
                .onShutdownForceStop(true)
                .build();
    }

    /** Orders the connection factory after the server: connected after start, closed before stop. */
    @Bean
    public static BeanFactoryPostProcessor redisStartsFirst() {
        return beanFactory -> {
            for (String name : beanFactory.getBeanNamesForType(
                    org.springframework.data.redis.connection.RedisConnectionFactory.class, true, false)) {
                BeanDefinition definition = beanFactory.getBeanDefinition(name);
                definition.setDependsOn(append(definition.getDependsOn(), BEAN));
            }
        };
    }

    private static String[] append(String[] existing, String extra) {
        if (existing == null) {
            return new String[] {extra};
        }
        String[] result = java.util.Arrays.copyOf(existing, existing.length + 1);
        result[existing.length] = extra;
        return result;
    }
}
