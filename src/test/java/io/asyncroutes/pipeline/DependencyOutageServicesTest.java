package io.asyncroutes.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Level;
import com.fasterxml.jackson.databind.JsonNode;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import com.rabbitmq.client.GetResponse;
import com.rabbitmq.client.MessageProperties;
import io.asyncroutes.AsyncRoutesApplication;
import io.asyncroutes.ordering.KeyedResequencer;
import io.asyncroutes.support.EmbeddedProfileTest;
import io.asyncroutes.support.Http;
import io.asyncroutes.support.Json;
import io.asyncroutes.support.LogCapture;
import io.asyncroutes.support.ServicesProfileTest;
import io.asyncroutes.support.TcpProxy;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import org.apache.camel.test.spring.junit5.CamelSpringBootTest;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.ActiveProfiles;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * Issues #9 and #14 (README "What happens when…"): each dependency of the {@code services} profile (RabbitMQ,
 * PostgreSQL, Redis) unreachable for 10 s under load, then back. The application reaches each
 * through a TCP proxy that a test cuts (open connections drop, new ones are refused) and restores.
 * Clients keep posting and, like real clients, post again whatever was not accepted. Health shows
 * the dependency DOWN during the outage and everything UP after; every accepted message ends in
 * PostgreSQL exactly once, none as {@code duplicate} or {@code failed}, with no restart.
 *
 * <p>Its own exchange, queues, schema and key prefix: the application instance of the other
 * {@code services} tests may still be running in this JVM and must not take its messages.
 */
@CamelSpringBootTest
@ActiveProfiles("services")
@SpringBootTest(classes = AsyncRoutesApplication.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
// closed after the class: with its proxies gone it would keep reconnecting to nothing beside the later tests
@DirtiesContext
class DependencyOutageServicesTest {

    private static final String SCHEMA = "ar_outage";
    private static final String PREFIX = "ar-outage";
    private static final String API_KEY = "outage-key";
    /** A bound on each client's messages, far above what an outage run posts (about 100 per thread). */
    private static final int MAX_PER_THREAD = 1_000;
    private static final TcpProxy BROKER_LINK;
    private static final TcpProxy DATABASE_LINK;
    private static final TcpProxy REDIS_LINK;

    static {
        ServicesProfileTest.wipe(SCHEMA, PREFIX + ":", PREFIX);
        BROKER_LINK = new TcpProxy(EmbeddedProfileTest.freePort(), 5672);
        DATABASE_LINK = new TcpProxy(EmbeddedProfileTest.freePort(), 5432);
        REDIS_LINK = new TcpProxy(EmbeddedProfileTest.freePort(), 6379);
    }

    @DynamicPropertySource
    static void properties(DynamicPropertyRegistry registry) {
        registry.add("spring.rabbitmq.port", BROKER_LINK::port);
        registry.add("spring.rabbitmq.connection-timeout", () -> "2s");
        registry.add("app.security.api-key", () -> API_KEY);
        registry.add("spring.datasource.url", () -> "jdbc:postgresql://127.0.0.1:" + DATABASE_LINK.port() + "/test?currentSchema=" + SCHEMA);
        registry.add("spring.datasource.hikari.connection-timeout", () -> "1000");
        registry.add("spring.data.redis.port", REDIS_LINK::port);
        registry.add("spring.data.redis.timeout", () -> "1s");
        registry.add("spring.flyway.schemas", () -> SCHEMA);
        registry.add("app.redis.key-prefix", () -> PREFIX + ":");
        registry.add("app.rabbitmq.exchange", () -> PREFIX);
        registry.add("app.rabbitmq.prefix", () -> PREFIX);
        registry.add("server.address", () -> "127.0.0.1");
        registry.add("spring.quartz.scheduler-name", () -> PREFIX);
        registry.add("app.persistence.handoff-timeout", () -> "2s");
    }

    @AfterAll
    static void closeLinks() {
        BROKER_LINK.close();
        REDIS_LINK.close();
        // the database link stays open (the JVM's end closes it): this runs before Spring closes the context,
        // and stopping without the database is StopWithoutDatabaseServicesTest's (it hung here once in CI
        // before spring.quartz.wait-for-jobs-to-complete-on-shutdown was false)
    }

    @LocalServerPort
    int port;
    @Autowired
    JdbcTemplate jdbc;
    @Autowired
    KeyedResequencer orderingGate;

    @Test
    void rabbitMqUnreachableForTenSecondsUnderLoad() throws Exception {
        outageUnderLoad(Fault.of(BROKER_LINK), "rabbit", true);
    }

    @Test
    void postgreSqlUnreachableForTenSecondsUnderLoad() throws Exception {
        outageUnderLoad(Fault.of(DATABASE_LINK), "db", false);
    }

    @Test
    void redisUnreachableForTenSecondsUnderLoad() throws Exception {
        outageUnderLoad(Fault.of(REDIS_LINK), "redis", false);
    }

    /**
     * The broker itself stopped and started again (durable queues and persistent messages survive
     * it). While it stops it may accept a connection or a publish and not answer: the publisher's
     * confirm timeout turns that into a 503 instead of a request that hangs. Each thread's messages
     * stay on one partition queue across the restart (x-modulus-hash): none comes late.
     */
    @Test
    void rabbitMqRestartedUnderLoad() throws Exception {
        outageUnderLoad(new Fault(() -> command("rabbitmqctl", "stop_app"),
                () -> command("rabbitmqctl", "start_app")), "rabbit", true);
    }

    /** The database server itself stopped (fast shutdown: sessions ended) and started again. */
    @Test
    void postgreSqlRestartedUnderLoad() throws Exception {
        String cluster = postgresVersion();
        outageUnderLoad(new Fault(() -> command("pg_ctlcluster", "--skip-systemctl-redirect", cluster, "main", "stop", "-m", "fast"),
                () -> command("pg_ctlcluster", "--skip-systemctl-redirect", cluster, "main", "start")), "db", false);
    }

    /**
     * While the broker is away a gap is not a gap: its message may be queued there. Seq 2 waits in the
     * gate for seq 1; the broker link goes down; another producer puts seq 1 on the broker directly.
     * Three gap timeouts pass with the link down and nothing is skipped (the waiting seq 2 was handed
     * back when the consumers' connection dropped); when it is back the broker delivers seq 2 and
     * seq 1 again, seq 1 is handled first, and both end {@code processed}, none {@code late}.
     */
    @Test
    void noGapIsSkippedWhileTheBrokerIsAway() throws Exception {
        String thread = "bo-gap-" + UUID.randomUUID().toString().substring(0, 8);
        int pendingBefore = orderingGate.pendingMessages();
        try (LogCapture log = LogCapture.start()) {
            postUntilAccepted(message(thread, 2), new AtomicInteger());
            await().atMost(Duration.ofSeconds(10)).alias("seq 2 waiting in the gate")
                    .until(() -> orderingGate.pendingMessages() > pendingBefore);
            BROKER_LINK.cut();
            try {
                ConnectionFactory factory = new ConnectionFactory();
                factory.setHost("127.0.0.1");
                try (Connection connection = factory.newConnection()) {
                    connection.createChannel().basicPublish(PREFIX + ".in", thread, MessageProperties.PERSISTENT_BASIC,
                            message(thread, 1).getBytes(java.nio.charset.StandardCharsets.UTF_8));
                }
                // three gap timeouts (2 s) with the broker away
                await().during(Duration.ofSeconds(6)).atMost(Duration.ofSeconds(8)).alias("no gap skipped while the broker is away")
                        .until(() -> skipsOf(log, thread).isEmpty());
            } finally {
                BROKER_LINK.restore();
            }
            await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(250)).until(() ->
                    jdbc.queryForObject("SELECT COUNT(*) FROM ar_message WHERE thread_id = ?", Integer.class, thread) == 2);
            assertThat(skipsOf(log, thread)).as("gaps skipped").isEmpty();
        }
        List<Map<String, Object>> rows = jdbc.queryForList(
                "SELECT seq, status FROM ar_message WHERE thread_id = ? ORDER BY processed_at, seq", thread);
        assertThat(rows).as("handled in seq order, neither late").extracting(row -> ((Number) row.get("seq")).intValue() + " " + row.get("status"))
                .containsExactly("1 processed", "2 processed");
    }

    private static List<String> skipsOf(LogCapture log, String thread) {
        return log.atLeast(Level.WARN).stream().filter(line -> line.startsWith("Thread " + thread + ": seq ")
                && line.contains(" missing after ")).toList();
    }

    private static String message(String thread, int seq) {
        return "{\"id\":\"" + thread + "-" + seq + "\",\"threadId\":\"" + thread + "\",\"seq\":" + seq + ",\"content\":\"m\"}";
    }

    // Redis is not restarted: on this machine it keeps nothing on disk (--save "" --appendonly no), so a restart
    // would be a Redis that lost its data, a different fault from an outage (idempotency keys and ordering state gone).

    /** A dependency made unavailable, then available again. */
    record Fault(Step begin, Step end) {
        interface Step {
            void run() throws Exception;
        }

        static Fault of(TcpProxy link) {
            return new Fault(link::cut, link::restore);
        }
    }

    private static void command(String... command) throws Exception {
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes());
        if (!process.waitFor(120, TimeUnit.SECONDS) || process.exitValue() != 0) {
            throw new IllegalStateException(String.join(" ", command) + " failed: " + output);
        }
    }

    private static String postgresVersion() {
        String[] versions = new java.io.File("/etc/postgresql").list();
        org.junit.jupiter.api.Assumptions.assumeTrue(versions != null && versions.length == 1,
                "restarting PostgreSQL needs one local cluster under /etc/postgresql");
        return versions[0];
    }

    /**
     * @param healthComponent the actuator health component of the dependency
     * @param intakeRefuses   whether the REST intake itself needs the dependency (only the broker)
     */
    private void outageUnderLoad(Fault fault, String healthComponent, boolean intakeRefuses) throws Exception {
        String run = "bo-" + healthComponent + "-" + UUID.randomUUID().toString().substring(0, 8);
        int threads = 24;
        AtomicInteger accepted = new AtomicInteger();
        AtomicInteger refused = new AtomicInteger();
        // Clients post until the dependency is back (not a fixed count): a fault that takes seconds to begin
        // (rabbitmqctl stop_app closes every connection first) must still meet load, or nothing is refused.
        AtomicBoolean faultOver = new AtomicBoolean();
        ExecutorService clients = Executors.newFixedThreadPool(threads);
        List<Future<?>> posting = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            String thread = run + "-" + t;
            posting.add(clients.submit(() -> {
                for (int seq = 1; seq <= MAX_PER_THREAD && !faultOver.get(); seq++) {
                    postUntilAccepted(message(thread, seq), refused);
                    accepted.incrementAndGet();
                    sleepQuietly(150); // steady load spread over the outage
                }
                return null;
            }));
        }

        await().atMost(Duration.ofSeconds(30)).until(() -> accepted.get() >= 120);
        fault.begin().run();
        try {
            await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(200))
                    .until(() -> componentStatus(healthComponent).equals("DOWN"));
            if (intakeRefuses) {
                // the intake refuses what it cannot make durable, within the publisher's confirm timeout
                await().atMost(Duration.ofSeconds(10)).alias("a request refused while the broker is away")
                        .until(() -> refused.get() > 0);
            }
            sleepQuietly(10_000); // the outage itself: 10 s of the dependency unreachable
        } finally {
            fault.end().run();
        }
        int acceptedAtRestore = accepted.get();
        // load goes on after the restore until a few more messages per thread are in
        await().atMost(Duration.ofSeconds(60)).until(() -> accepted.get() >= acceptedAtRestore + 2 * threads);
        faultOver.set(true);
        for (Future<?> p : posting) {
            p.get(120, TimeUnit.SECONDS);
        }
        clients.shutdown();

        int expected = accepted.get();
        await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(250)).ignoreExceptions().until(() ->
                jdbc.queryForObject("SELECT COUNT(*) FROM ar_message WHERE thread_id LIKE ?", Integer.class, run + "-%") >= expected);
        assertThat(jdbc.queryForObject("SELECT COUNT(DISTINCT id) FROM ar_message WHERE thread_id LIKE ?", Integer.class, run + "-%"))
                .as("every accepted message stored exactly once").isEqualTo(expected);
        Map<String, Integer> statuses = jdbc.queryForList(
                        "SELECT status, COUNT(*) AS n FROM ar_message WHERE thread_id LIKE ? GROUP BY status", run + "-%").stream()
                .collect(Collectors.toMap(row -> (String) row.get("status"), row -> ((Number) row.get("n")).intValue()));
        System.out.printf("%s outage: statuses %s, %d requests refused and posted again%n", healthComponent, statuses, refused.get());
        // not even late: a message failed by the outage went back to the broker and its successors waited for it;
        // what waited in the gate was handed back; the partition exchange routed each thread to the same queue
        // before and after a broker restart (x-modulus-hash; the consistent-hash exchange's ring can change then)
        assertThat(statuses).as("statuses after the outage").containsOnlyKeys("processed");
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(500)).until(() -> overallStatus().equals("UP"));
        assertThat(publishedResults(run)).as("a result published for every message").hasSize(expected);
        // a delivery superseded by its redelivered copy ends quietly, it is not dead-lettered
        assertThat(deadLettered(run)).as("dead-lettered messages of the run").isZero();
    }

    /** The run's messages on the dead-letter queue; reads the queue empty. */
    private static int deadLettered(String run) throws Exception {
        AtomicInteger count = new AtomicInteger();
        drain(PREFIX + ".dead-letter", body -> {
            if (new String(body, java.nio.charset.StandardCharsets.UTF_8).contains("\"" + run + "-")) {
                count.incrementAndGet();
            }
        });
        return count.get();
    }

    /** Ids of the run's handled (processed or late) results on the results queue; reads the queue empty. */
    private static Set<String> publishedResults(String run) throws Exception {
        Set<String> ids = new HashSet<>();
        drain(PREFIX + ".results", body -> {
            JsonNode result = Json.MAPPER.readTree(body);
            String status = result.path("status").asText();
            if (result.path("threadId").asText().startsWith(run + "-") && (status.equals("processed") || status.equals("late"))) {
                ids.add(result.path("id").asText());
            }
        });
        return ids;
    }

    interface BodyReader {
        void read(byte[] body) throws Exception;
    }

    /** Reads a queue empty, handing each message body to {@code reader}. */
    private static void drain(String queue, BodyReader reader) throws Exception {
        ConnectionFactory factory = new ConnectionFactory();
        factory.setHost("127.0.0.1");
        try (Connection connection = factory.newConnection()) {
            Channel channel = connection.createChannel();
            GetResponse message;
            while ((message = channel.basicGet(queue, true)) != null) {
                reader.read(message.getBody());
            }
        }
    }

    private String componentStatus(String component) {
        try {
            return Json.MAPPER.readTree(Http.get("http://127.0.0.1:" + port + "/actuator/health").body())
                    .path("components").path(component).path("status").asText();
        } catch (Exception e) {
            return "unknown";
        }
    }

    private String overallStatus() {
        try {
            return Json.MAPPER.readTree(Http.get("http://127.0.0.1:" + port + "/actuator/health").body()).path("status").asText();
        } catch (Exception e) {
            return "unknown";
        }
    }

    /** A client's retry: whatever was not accepted (503 while the broker is away, a dropped connection) is posted again. */
    private void postUntilAccepted(String body, AtomicInteger refused) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
        while (System.nanoTime() < deadline) {
            try {
                HttpResponse<String> response = Http.send("POST", "http://127.0.0.1:" + port + "/api/messages",
                        "application/json", body, Map.of("X-API-Key", API_KEY));
                if (response.statusCode() == 202) {
                    return;
                }
                assertThat(response.statusCode()).as("only an outage refuses a valid message: %s", response.body())
                        .isEqualTo(503);
            } catch (RuntimeException e) {
                // the request itself failed: post again
            }
            refused.incrementAndGet();
            sleepQuietly(200);
        }
        throw new AssertionError("not accepted within 90 s: " + body);
    }

    private static void sleepQuietly(long millis) {
        try {
            TimeUnit.MILLISECONDS.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
