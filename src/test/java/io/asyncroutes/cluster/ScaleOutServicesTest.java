package io.asyncroutes.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import io.asyncroutes.support.AppProcess;
import io.asyncroutes.support.EmbeddedProfileTest;
import io.asyncroutes.support.Http;
import io.asyncroutes.support.Json;
import io.asyncroutes.support.ServicesProfileTest;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Timestamp;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Issue #13 on RabbitMQ: three {@code services} instances, each its own JVM, on this machine's
 * RabbitMQ, PostgreSQL and Redis (own exchange {@value #PREFIX}, schema {@value #SCHEMA}, key
 * prefix {@value #KEY_PREFIX}, Quartz scheduler name), share the 16 inbound partitions:
 * <ol>
 *   <li>a backlog of 12 000 messages over 600 threads (published by a plain AMQP client, routing
 *   key = thread id, each thread's seqs in order) is drained by all three, each handling between
 *   20 % and 46 % of it (read from each instance's own Prometheus counter
 *   {@code ar_intake_partition_messages_total}); every message stored once, {@code processed}, and
 *   each thread handled in seq order;</li>
 *   <li>the same with one instance killed (kill -9) mid-drain: its partitions are owned again by
 *   the survivors within 10 s, every message stored once, none {@code duplicate}, order kept;</li>
 *   <li>a new instance joins while the other two work off a stream of one seq per thread per
 *   second (partitions handed over to it with messages in flight): it takes its share, every
 *   message stored once, {@code processed}, in order;</li>
 *   <li>one instance stopped (SIGTERM) mid-drain works off what it had admitted, gives its
 *   partitions up, and the others own them; the same checks.</li>
 * </ol>
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ScaleOutServicesTest {

    private static final String SCHEMA = "ar_scale";
    private static final String PREFIX = "ar-scale";
    private static final String KEY_PREFIX = "ar-scale:";
    private static final String PG = "jdbc:postgresql://127.0.0.1:5432/test";
    private static final int PARTITIONS = 16;
    private static final int THREADS = 600;
    private static final int PER_THREAD = 20;
    /**
     * At most this many seqs per thread while the joining instance boots and joins (105 s of
     * publishing). The stream must outlast the boot: with a bound of 60 rounds (42 s) a boot slowed
     * by a loaded machine outlasted it, the other two drained everything, and the joining
     * instance, though it owned its partitions within a second, had nothing left to handle.
     */
    private static final int MAX_JOIN_ROUNDS = 150;

    private final Map<String, Process> processes = new LinkedHashMap<>();
    private final Map<String, Integer> ports = new LinkedHashMap<>();
    private Path logs;

    @BeforeAll
    void startThreeInstances() throws Exception {
        ServicesProfileTest.wipe(SCHEMA, KEY_PREFIX, PREFIX);
        logs = EmbeddedProfileTest.tempDir("ar-scale-");
        start("a");
        AppProcess.awaitHealthy(ports.get("a")); // alone first: it migrates the schema
        start("b");
        start("c");
        AppProcess.awaitHealthy(ports.get("b"));
        AppProcess.awaitHealthy(ports.get("c"));
    }

    @AfterAll
    void stopAll() throws Exception {
        for (Process process : processes.values()) {
            process.destroy();
        }
        for (Process process : processes.values()) {
            if (!process.waitFor(60, TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        }
        System.out.println("scale-out logs: " + logs);
    }

    @Test
    @Order(1)
    void threeInstancesShareTheBacklogAndKeepEachThreadInOrder() throws Exception {
        Map<String, List<Integer>> owned = awaitBalanced(List.of("a", "b", "c"));
        Map<String, Double> before = handledPerInstance(List.of("a", "b", "c"));
        long started = System.nanoTime();
        publishBacklog("s1");
        awaitAllStored("s1", Duration.ofSeconds(120));
        long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);

        Map<String, Double> after = handledPerInstance(List.of("a", "b", "c"));
        double total = 0;
        Map<String, Double> handled = new TreeMap<>();
        for (String name : after.keySet()) {
            handled.put(name, after.get(name) - before.get(name));
            total += handled.get(name);
        }
        StringBuilder split = new StringBuilder();
        for (var e : handled.entrySet()) {
            split.append(String.format("%s %d partitions %.0f messages (%.1f %%); ", e.getKey(), owned.get(e.getKey()).size(),
                    e.getValue(), 100 * e.getValue() / total));
        }
        System.out.printf("scale-out: %d messages over %d threads drained by 3 instances in %d ms (%.0f msg/s): %s%n",
                THREADS * PER_THREAD, THREADS, millis, THREADS * PER_THREAD * 1000.0 / millis, split);
        for (var e : handled.entrySet()) {
            assertThat(e.getValue() / total).as("share of instance %s (%s)", e.getKey(), split).isBetween(0.20, 0.46);
        }
        assertStoredOnceInOrder("s1");
    }

    @Test
    @Order(2)
    void aKilledInstancesPartitionsAreOwnedAgainWithinTenSecondsAndNothingIsLostOrDuplicated() throws Exception {
        Map<String, List<Integer>> owned = awaitBalanced(List.of("a", "b", "c"));
        publishBacklog("s2");
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(50))
                .until(() -> stored("s2") >= THREADS * PER_THREAD / 6);
        long storedAtKill = stored("s2");
        processes.get("b").destroyForcibly(); // SIGKILL: no draining, no lease given back
        long killedAt = System.nanoTime();
        processes.get("b").waitFor(30, TimeUnit.SECONDS);

        await().atMost(Duration.ofSeconds(15)).pollInterval(Duration.ofMillis(200)).ignoreExceptions().until(() -> {
            Set<Integer> all = new HashSet<>();
            for (String name : List.of("a", "c")) {
                all.addAll(partitions(name).get("owned"));
            }
            return all.size() == PARTITIONS;
        });
        long takenOverMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - killedAt);
        JsonNode owners = health("a").path("components").path("partitions").path("details").path("owners");
        awaitAllStored("s2", Duration.ofSeconds(120));
        System.out.printf("scale-out kill -9: b owned %s, killed with %d of %d stored; its partitions owned again after %d ms;"
                + " owners now %s%n", owned.get("b"), storedAtKill, THREADS * PER_THREAD, takenOverMillis, owners);
        assertThat(takenOverMillis).as("partitions of the killed instance owned again").isLessThanOrEqualTo(10_000);
        owners.forEach(owner -> assertThat(owner.asText()).isIn("a", "c"));
        assertStoredOnceInOrder("s2");
    }

    @Test
    @Order(3)
    void anInstanceThatJoinsMidDrainTakesItsShareAndNothingIsLostOrDuplicated() throws Exception {
        awaitBalanced(List.of("a", "c"));
        start("b2");
        // one seq of all 600 threads every 700 ms (about 860 msg/s, more than two instances work off
        // on this machine), while b2 boots and until it has handled some: it joins while the others
        // have a backlog and messages in flight
        AtomicInteger rounds = new AtomicInteger();
        java.util.concurrent.atomic.AtomicReference<Exception> producerFailure = new java.util.concurrent.atomic.AtomicReference<>();
        ScheduledExecutorService producer = Executors.newSingleThreadScheduledExecutor();
        try (Connection connection = rabbit(); Channel channel = connection.createChannel()) {
            channel.confirmSelect();
            producer.scheduleAtFixedRate(() -> {
                if (rounds.get() >= MAX_JOIN_ROUNDS) {
                    return; // bounds the test on a slow machine
                }
                try {
                    publishRound(channel, "s3", rounds.get() + 1);
                    channel.waitForConfirmsOrDie(30_000);
                    rounds.incrementAndGet();
                } catch (Exception e) {
                    // a scheduled task that throws stops silently: keep the cause for the assertion below
                    producerFailure.compareAndSet(null, e);
                    throw new IllegalStateException(e);
                }
            }, 0, 700, TimeUnit.MILLISECONDS);
            AppProcess.awaitHealthy(ports.get("b2"));
            await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200))
                    .alias("b2 handles messages")
                    .failFast("the producer failed", () -> producerFailure.get() != null)
                    .failFast("the stream ended before b2 handled any", () -> rounds.get() >= MAX_JOIN_ROUNDS)
                    .until(() -> handledPerInstance(List.of("b2")).get("b2") > 0);
            producer.shutdown();
            assertThat(producer.awaitTermination(30, TimeUnit.SECONDS)).isTrue();
        } finally {
            producer.shutdownNow();
        }
        int perThread = rounds.get();
        long storedAtJoin = stored("s3");
        awaitAllStored("s3", perThread, Duration.ofSeconds(120));
        Map<String, List<Integer>> owned = awaitBalanced(List.of("a", "b2", "c"));
        Map<String, Double> handled = handledPerInstance(List.of("b2"));
        System.out.printf("scale-out join: %d messages published while b2 booted and joined (%d stored when it had handled"
                        + " its first), b2 handled %.0f; owned now %s%n",
                perThread * THREADS, storedAtJoin, handled.get("b2"), owned);
        assertStoredOnceInOrder("s3", perThread);
    }

    @Test
    @Order(4)
    void anInstanceStoppedMidDrainHandsItsPartitionsOverAtOnceAndNothingIsLostOrDuplicated() throws Exception {
        if (!processes.containsKey("b2")) { // the join variant, which starts it, is disabled
            start("b2");
            AppProcess.awaitHealthy(ports.get("b2"));
        }
        Map<String, List<Integer>> owned = awaitBalanced(List.of("a", "b2", "c"));
        publishBacklog("s4");
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(50))
                .until(() -> stored("s4") >= THREADS * PER_THREAD / 6);
        long storedAtStop = stored("s4");
        processes.get("c").destroy(); // SIGTERM: it drains and gives its partitions up before it exits
        long stoppedAt = System.nanoTime();
        await().atMost(Duration.ofSeconds(15)).pollInterval(Duration.ofMillis(100)).ignoreExceptions().until(() -> {
            Set<Integer> all = new HashSet<>();
            for (String name : List.of("a", "b2")) {
                all.addAll(partitions(name).get("owned"));
            }
            return all.size() == PARTITIONS;
        });
        long takenOverMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - stoppedAt);
        assertThat(processes.get("c").waitFor(60, TimeUnit.SECONDS)).as("c exited").isTrue();
        awaitAllStored("s4", Duration.ofSeconds(120));
        System.out.printf("scale-out stop: c owned %s, stopped (SIGTERM) with %d of %d stored; its partitions owned again after %d ms%n",
                owned.get("c"), storedAtStop, THREADS * PER_THREAD, takenOverMillis);
        // it first works off what it had admitted (up to a prefetch window per partition)
        assertThat(takenOverMillis).as("partitions of the stopped instance owned again").isLessThanOrEqualTo(15_000);
        assertStoredOnceInOrder("s4");
    }

    private void start(String name) throws Exception {
        int port = EmbeddedProfileTest.freePort();
        ports.put(name, port);
        processes.put(name, AppProcess.start(List.of(
                "--spring.profiles.active=services",
                "--server.port=" + port,
                "--server.address=127.0.0.1",
                "--app.security.api-key=scale-out",
                "--spring.datasource.url=" + PG + "?currentSchema=" + SCHEMA,
                "--spring.flyway.schemas=" + SCHEMA,
                "--app.redis.key-prefix=" + KEY_PREFIX,
                "--app.rabbitmq.exchange=" + PREFIX,
                "--app.rabbitmq.prefix=" + PREFIX,
                "--spring.quartz.scheduler-name=" + PREFIX,
                "--app.partitions.instance-id=" + name,
                "--logging.level.root=WARN",
                "--logging.level.io.asyncroutes.cluster=INFO"), new File(logs.toFile(), name + ".log")));
    }

    /** Waits until the instances own all partitions between them, about evenly, none being given up. */
    private Map<String, List<Integer>> awaitBalanced(List<String> names) {
        Map<String, List<Integer>> owned = new TreeMap<>();
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200)).ignoreExceptions().until(() -> {
            owned.clear();
            int sum = 0;
            for (String name : names) {
                Map<String, List<Integer>> p = partitions(name);
                if (!p.get("releasing").isEmpty() || p.get("owned").size() < PARTITIONS / names.size()) {
                    return false;
                }
                owned.put(name, p.get("owned"));
                sum += p.get("owned").size();
            }
            return sum == PARTITIONS;
        });
        return owned;
    }

    private JsonNode health(String name) throws Exception {
        return Json.MAPPER.readTree(Http.get("http://127.0.0.1:" + ports.get(name) + "/actuator/health").body());
    }

    private Map<String, List<Integer>> partitions(String name) throws Exception {
        JsonNode details = health(name).path("components").path("partitions").path("details");
        Map<String, List<Integer>> result = new TreeMap<>();
        for (String field : List.of("owned", "releasing")) {
            List<Integer> list = new ArrayList<>();
            details.path(field).forEach(n -> list.add(n.asInt()));
            result.put(field, list);
        }
        if (!details.path("owned").isArray()) {
            throw new IllegalStateException("no partitions in the health of " + name);
        }
        return result;
    }

    /** Each instance's own count of handled inbound messages, from its Prometheus endpoint. */
    private Map<String, Double> handledPerInstance(List<String> names) {
        Map<String, Double> handled = new TreeMap<>();
        for (String name : names) {
            double sum = 0;
            for (String line : Http.get("http://127.0.0.1:" + ports.get(name) + "/actuator/prometheus").body().split("\n")) {
                if (line.startsWith("ar_intake_partition_messages_total{")) {
                    sum += Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
                }
            }
            handled.put(name, sum);
        }
        return handled;
    }

    /** 600 threads x 20 messages to the consistent-hash exchange, each thread's seqs in order, confirmed. */
    private static void publishBacklog(String run) throws Exception {
        try (Connection connection = rabbit(); Channel channel = connection.createChannel()) {
            channel.confirmSelect();
            for (int seq = 1; seq <= PER_THREAD; seq++) {
                publishRound(channel, run, seq);
            }
            channel.waitForConfirmsOrDie(60_000);
        }
    }

    private static Connection rabbit() throws Exception {
        ConnectionFactory factory = new ConnectionFactory();
        factory.setHost("127.0.0.1");
        return factory.newConnection();
    }

    /** Message {@code seq} of every thread, routing key = thread id. */
    private static void publishRound(Channel channel, String run, int seq) throws java.io.IOException {
        AMQP.BasicProperties persistent = new AMQP.BasicProperties.Builder().deliveryMode(2)
                .contentType("application/json").build();
        for (int t = 0; t < THREADS; t++) {
            String thread = run + "-t" + t;
            String body = "{\"id\":\"" + thread + "-" + seq + "\",\"threadId\":\"" + thread + "\",\"seq\":" + seq
                    + ",\"content\":\"m\"}";
            channel.basicPublish(PREFIX + ".in", thread, persistent, body.getBytes(StandardCharsets.UTF_8));
        }
    }

    private static long stored(String run) throws Exception {
        try (var c = DriverManager.getConnection(PG, "postgres", "");
             var s = c.prepareStatement("SELECT COUNT(*) FROM " + SCHEMA + ".ar_message WHERE thread_id LIKE ?")) {
            s.setString(1, run + "-t%");
            try (ResultSet rs = s.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    private static void awaitAllStored(String run, Duration atMost) {
        awaitAllStored(run, PER_THREAD, atMost);
    }

    private static void awaitAllStored(String run, int perThread, Duration atMost) {
        await().atMost(atMost).pollInterval(Duration.ofMillis(250)).until(() -> stored(run) >= (long) THREADS * perThread);
    }

    /** Every message once, all processed, and each thread handled in seq order (and stored in that order). */
    private static void assertStoredOnceInOrder(String run) throws Exception {
        assertStoredOnceInOrder(run, PER_THREAD);
    }

    private static void assertStoredOnceInOrder(String run, int perThread) throws Exception {
        Map<String, Long> statuses = new TreeMap<>();
        Map<String, List<long[]>> byThread = new TreeMap<>();
        Set<String> ids = new HashSet<>();
        int rows = 0;
        try (var c = DriverManager.getConnection(PG, "postgres", "");
             var s = c.prepareStatement("SELECT id, thread_id, seq, status, processed_at, stored_order FROM " + SCHEMA
                     + ".ar_message WHERE thread_id LIKE ? ORDER BY thread_id, seq")) {
            s.setString(1, run + "-t%");
            try (ResultSet rs = s.executeQuery()) {
                while (rs.next()) {
                    rows++;
                    ids.add(rs.getString(1));
                    statuses.merge(rs.getString(4), 1L, Long::sum);
                    Timestamp processed = rs.getTimestamp(5);
                    long micros = processed.getTime() / 1000 * 1_000_000 + processed.getNanos() / 1000;
                    byThread.computeIfAbsent(rs.getString(2), k -> new ArrayList<>())
                            .add(new long[] {rs.getLong(3), micros, rs.getLong(6)});
                }
            }
        }
        System.out.printf("scale-out %s: %d rows, %d distinct ids, statuses %s%n", run, rows, ids.size(), statuses);
        assertThat(rows).isEqualTo(THREADS * perThread);
        assertThat(ids).hasSize(THREADS * perThread);
        assertThat(statuses).containsOnlyKeys("processed");
        assertThat(byThread).hasSize(THREADS);
        for (var e : byThread.entrySet()) {
            List<long[]> thread = e.getValue();
            for (int i = 0; i < thread.size(); i++) {
                assertThat(thread.get(i)[0]).as("%s seq", e.getKey()).isEqualTo(i + 1);
                if (i > 0) {
                    assertThat(thread.get(i)[1]).as("%s seq %d handled after seq %d", e.getKey(), i + 1, i)
                            .isGreaterThan(thread.get(i - 1)[1]);
                    assertThat(thread.get(i)[2]).as("%s seq %d stored after seq %d", e.getKey(), i + 1, i)
                            .isGreaterThan(thread.get(i - 1)[2]);
                }
            }
        }
    }
}
