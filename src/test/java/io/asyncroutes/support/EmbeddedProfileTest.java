package io.asyncroutes.support;

import io.asyncroutes.AsyncRoutesApplication;
import io.asyncroutes.chat.LocalOpenAiServer;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.camel.test.spring.junit5.CamelSpringBootTest;
import org.springframework.boot.test.autoconfigure.actuate.observability.AutoConfigureObservability;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * Base of the tests that run the application on its embedded default profile: embedded Artemis,
 * H2 file database and embedded Redis, all under a fresh temporary data directory. Every subclass
 * shares one Spring context (same configuration), so the suite starts it once.
 */
@CamelSpringBootTest
@AutoConfigureObservability // Spring Boot turns metrics export off in tests unless asked
@SpringBootTest(classes = AsyncRoutesApplication.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
public abstract class EmbeddedProfileTest {

    private static final Path DATA_DIR = tempDir("ar-embedded-");
    private static final int REDIS_PORT = freePort();
    /** The local OpenAI-compatible server the application's LLM client talks to. */
    public static final LocalOpenAiServer LLM = startLlm();

    @DynamicPropertySource
    static void embeddedProperties(DynamicPropertyRegistry registry) {
        registry.add("app.data-dir", DATA_DIR::toString);
        registry.add("spring.data.redis.port", () -> REDIS_PORT);
        // short redelivery so the tests that roll a message back see it again quickly
        registry.add("app.persistence.retry-initial-delay", () -> "100ms");
        // the local upstream of the fetch tests is reached as "localhost"; 127.0.0.1 stays refused
        registry.add("app.fetch.allowed-hosts", () -> "localhost");
        registry.add("app.retry.initial-delay", () -> "200ms");
        registry.add("app.llm.base-url", LLM::baseUrl);
        registry.add("app.llm.model", () -> "words-3-10");
        registry.add("app.llm.chunk-endpoint", () -> "seda:reply-chunks");
        // a request still served through Spring MVC's async processing would be cut after this
        // (Tomcat's own default is 30 s): ChatApiTest's 6 s stream shows the API serves none that way
        registry.add("spring.mvc.async.request-timeout", () -> "3s");
    }

    private static LocalOpenAiServer startLlm() {
        try {
            return new LocalOpenAiServer();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    public static int freePort() {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * A fresh temporary directory, deleted with everything in it when the test JVM exits: the
     * application runs of the suite leave H2 files, Artemis journals and logs there, and a machine
     * that runs the suite again and again would otherwise keep them all.
     */
    public static Path tempDir(String prefix) {
        try {
            Path dir = Files.createTempDirectory(prefix);
            TempDirs.DIRS.add(dir);
            return dir;
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Deletes the directories of {@link #tempDir} at exit; one shutdown hook for all of them. */
    private static final class TempDirs {
        static final java.util.Set<Path> DIRS = java.util.concurrent.ConcurrentHashMap.newKeySet();

        static {
            Runtime.getRuntime().addShutdownHook(new Thread(TempDirs::deleteAll, "ar-test-temp-dirs"));
        }

        /**
         * Shutdown hooks run side by side: the cached Spring contexts and H2 close in hooks of their
         * own, and H2 writes its file as it closes (seen: a data directory deleted, then its H2 file
         * back a second later). So the directories are deleted again and again for 3.5 s, once per
         * test JVM.
         */
        private static void deleteAll() {
            for (int pass = 0; pass < 8; pass++) {
                if (pass > 0) {
                    java.util.concurrent.locks.LockSupport.parkNanos(500_000_000L);
                }
                for (Path dir : DIRS) {
                    try {
                        org.springframework.util.FileSystemUtils.deleteRecursively(dir);
                    } catch (IOException e) {
                        // being written to right now: the next pass
                    }
                }
            }
        }
    }
}
