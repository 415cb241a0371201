package io.asyncroutes.config;

import io.asyncroutes.settings.AppSettings;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
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
        // the library's command line (its redis-server binary, unpacked, and a config file), not its
        // RedisServer: that one registers a JVM shutdown hook which stops redis-server at SIGTERM while
        // Spring is still draining in-flight messages that need Redis
        List<String> command = RedisServer.newRedisServer()
                .port(port)
                .bind("127.0.0.1")
                .setting("dir " + dir.toString().replace(File.separatorChar, '/'))
                .setting("appendonly yes")
                .setting("save \"\"")
                .buildCommandArgs();
        return new EmbeddedRedis(port, command, dir.resolve("redis-server.log").toFile());
    }

    /**
     * The redis-server child process, started and stopped with the application context (after a
     * SIGTERM, once the context is closed). After a crash of the JVM (kill -9) that child outlives
     * it and keeps the port and the data directory; the next start adopts it instead of failing,
     * and shuts it down at the end like its own.
     */
    public static class EmbeddedRedis {
        private static final Logger LOG = LoggerFactory.getLogger(EmbeddedRedis.class);
        private static final Duration READY_WITHIN = Duration.ofSeconds(20);

        private final int port;
        private final List<String> command;
        private final File log;
        private Process process;
        private boolean adopted;

        EmbeddedRedis(int port, List<String> command, File log) {
            this.port = port;
            this.command = command;
            this.log = log;
        }

        public void start() throws IOException, InterruptedException {
            if ("+PONG".equals(command("PING"))) {
                adopted = true;
                LOG.warn("A redis-server left by an earlier run still answers on 127.0.0.1:{}; using it", port);
                return;
            }
            process = new ProcessBuilder(command).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(log)).start();
            long deadline = System.nanoTime() + READY_WITHIN.toNanos();
            while (!"+PONG".equals(command("PING"))) {
                if (!process.isAlive() || System.nanoTime() > deadline) {
                    process.destroyForcibly();
                    throw new IOException("redis-server did not start on 127.0.0.1:" + port + " (its output: " + log + ")");
                }
                Thread.sleep(20); // polling a child process's port: nothing to be notified by
            }
        }

        public void stop() throws InterruptedException {
            if (adopted || process == null) {
                command("SHUTDOWN");
                return;
            }
            process.destroy(); // SIGTERM: redis-server flushes its append-only file and exits
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly();
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
