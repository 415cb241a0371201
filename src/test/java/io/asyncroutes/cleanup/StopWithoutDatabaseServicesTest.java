package io.asyncroutes.cleanup;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.asyncroutes.AsyncRoutesApplication;
import io.asyncroutes.support.EmbeddedProfileTest;
import io.asyncroutes.support.ServicesProfileTest;
import io.asyncroutes.support.TcpProxy;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * README "What happens when…": {@code services} is stopped while PostgreSQL is unreachable, just
 * after a cleanup tick ran. The clustered Quartz job store records a finished job in the database and
 * retries that until the database answers; a scheduler shutdown that waited for its jobs waited for
 * that retry, so the stop never ended (seen in CI). The stop must end, and the retrying thread with it.
 *
 * <p>A cleanup task of this test's holds the tick until the database link is cut, so the job
 * completes with the database gone every time, not by chance.
 */
class StopWithoutDatabaseServicesTest {

    private static final String SCHEMA = "ar_stopdb";
    private static final String PREFIX = "ar-stopdb";

    @Test
    void aStopWithTheDatabaseGoneRightAfterACleanupTickEnds() throws Exception {
        ServicesProfileTest.wipe(SCHEMA, PREFIX + ":", PREFIX);
        HeldTick tick = new HeldTick();
        try (TcpProxy database = new TcpProxy(EmbeddedProfileTest.freePort(), 5432)) {
            ConfigurableApplicationContext app = new SpringApplicationBuilder(AsyncRoutesApplication.class)
                    .profiles("services")
                    .initializers(context -> context.getBeanFactory().registerSingleton("heldTick", tick))
                    .run("--server.port=0",
                            "--server.address=127.0.0.1",
                            "--app.security.api-key=stop-without-database",
                            "--spring.datasource.url=jdbc:postgresql://127.0.0.1:" + database.port() + "/test?currentSchema=" + SCHEMA,
                            "--spring.datasource.hikari.connection-timeout=1000",
                            "--spring.flyway.schemas=" + SCHEMA,
                            "--app.redis.key-prefix=" + PREFIX + ":",
                            "--app.rabbitmq.exchange=" + PREFIX,
                            "--app.rabbitmq.prefix=" + PREFIX,
                            // its own scheduler name: Quartz keys a clustered job store's connections by it per JVM
                            "--spring.quartz.scheduler-name=" + PREFIX,
                            "--app.cleanup.clustered=true",
                            "--app.cleanup.cron=0/1 * * * * ?",
                            "--app.cleanup.cluster-checkin-interval=1s");
            try {
                assertThat(tick.entered.await(30, TimeUnit.SECONDS)).as("a cleanup tick started").isTrue();
                database.cut();
                tick.release.countDown();
                await().atMost(Duration.ofSeconds(30)).alias("the finished tick's completion retried against the database")
                        .until(StopWithoutDatabaseServicesTest::completionRetrying);

                Instant stopAt = Instant.now();
                CompletableFuture<Void> stop = CompletableFuture.runAsync(app::close);
                await().atMost(Duration.ofSeconds(90)).alias("the application stopped").until(stop::isDone);
                stop.join();
                System.out.printf("stopped without its database in %d ms%n", Duration.between(stopAt, Instant.now()).toMillis());
                assertThat(app.isActive()).isFalse();
                // the job store's shutdown ends the retry loop after its current pause (Quartz's dbRetryInterval)
                await().atMost(Duration.ofSeconds(30)).alias("the retrying Quartz thread ended")
                        .until(() -> !completionRetrying());
            } finally {
                tick.release.countDown();
                database.restore(); // lets a context still closing (the bug this test is about) get done
                if (app.isActive()) {
                    app.close();
                }
            }
        }
    }

    /** A Quartz worker in the job store's retry loop, completing a job it ran. */
    private static boolean completionRetrying() {
        return Thread.getAllStackTraces().values().stream().anyMatch(stack -> {
            String frames = Arrays.toString(stack);
            return frames.contains("retryExecuteInNonManagedTXLock") && frames.contains("triggeredJobComplete");
        });
    }

    /** Holds the first tick that runs it until released; later ticks pass. */
    static final class HeldTick implements CleanupTask {
        final CountDownLatch entered = new CountDownLatch(1);
        final CountDownLatch release = new CountDownLatch(1);

        @Override
        public String name() {
            return "held-tick";
        }

        @Override
        public long cleanup(Instant now) {
            entered.countDown();
            try {
                release.await(60, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return 0;
        }
    }
}
