package io.asyncroutes.config;

import io.asyncroutes.settings.AppSettings;
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
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import redis.embedded.RedisServer;

/**
 * The default profile's Redis: a real redis-server shipped inside the embedded-redis jar, bound to
 * loopback, with an append-only file under the data directory so thread state survives a restart.
 * It starts before and stops after the Redis connection factory. A server left running by a
 * crashed earlier run is adopted rather than clashed with.
 */
@Configuration(proxyBeanMethods = false)
@ConditionalOnProperty(name = "app.redis.embedded", havingValue = "true")
public class EmbeddedRedisConfiguration {

    static final String BEAN = "embeddedRedisServer";

    @Bean(name = BEAN, initMethod = "start", destroyMethod = "stop")
    public EmbeddedRedis embeddedRedisServer(Environment env, AppSettings settings) throws IOException {
        int port = env.getProperty("spring.data.redis.port", Integer.class, 6379);
        Path dir = Path.of(settings.getDataDir(), "redis").toAbsolutePath();
        Files.createDirectories(dir);
        return new EmbeddedRedis(port, RedisServer.newRedisServer()
                .port(port)
                .bind("127.0.0.1")
                .setting("dir " + dir.toString().replace(File.separatorChar, '/'))
                .setting("appendonly yes")
                .setting("save \"\"")
                .onShutdownForceStop(true)
                .build());
    }

    /**
     * The redis-server child process. After a crash of the JVM (kill -9) that child outlives it and
     * keeps the port and the data directory; the next start adopts it instead of failing, and shuts
     * it down at the end like its own.
     */
    public static class EmbeddedRedis {
        private static final Logger LOG = LoggerFactory.getLogger(EmbeddedRedis.class);

        private final int port;
        private final RedisServer server;
        private boolean adopted;

        EmbeddedRedis(int port, RedisServer server) {
            this.port = port;
            this.server = server;
        }

        public void start() throws IOException {
            if ("+PONG".equals(command("PING"))) {
                adopted = true;
                LOG.warn("A redis-server left by an earlier run still answers on 127.0.0.1:{}; using it", port);
                return;
            }
            server.start();
        }

        public void stop() throws IOException {
            if (adopted) {
                command("SHUTDOWN");
            } else {
                server.stop();
            }
        }

        /** One inline RESP command; the first reply line, or null when nothing answers. */
        private String command(String command) {
            try (java.net.Socket socket = new java.net.Socket()) {
                socket.connect(new java.net.InetSocketAddress("127.0.0.1", port), 500);
                socket.setSoTimeout(2000);
                socket.getOutputStream().write((command + "\r\n").getBytes(java.nio.charset.StandardCharsets.US_ASCII));
                socket.getOutputStream().flush();
                return new java.io.BufferedReader(new java.io.InputStreamReader(socket.getInputStream(),
                        java.nio.charset.StandardCharsets.US_ASCII)).readLine();
            } catch (IOException e) {
                return null;
            }
        }
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
