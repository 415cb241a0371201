package io.asyncroutes.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.asyncroutes.support.AppProcess;
import io.asyncroutes.support.EmbeddedProfileTest;
import io.asyncroutes.support.Http;
import io.asyncroutes.support.KafkaTestBroker;
import io.asyncroutes.support.ServicesProfileTest;
import java.io.File;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.MemberDescription;
import org.junit.jupiter.api.Test;

/**
 * The {@code kafka} profile with two instances, each its own process, sharing the partitions of
 * the inbound topic through their consumer group on a real Kafka broker; shuffled sequenced messages
 * are posted to both, one is killed with SIGKILL mid-stream, the survivor takes its partitions over
 * and everything goes on. Every accepted message is stored exactly once, none as a duplicate, all
 * {@code processed}, and each thread's messages stored in seq order.
 */
class KafkaKillNineTest {

    private static final String SCHEMA = "ar_kafka_kill";
    private static final String KEY_PREFIX = "ar-kafka-kill:";
    private static final String API_KEY = "kill-key";

    @Test
    void twoInstancesShareThePartitionsAndOneKilledLosesNothing() throws Exception {
        ServicesProfileTest.wipeStores(SCHEMA, KEY_PREFIX);
        String brokers = KafkaTestBroker.brokers();
        String prefix = "ar-kafka-kill-" + Long.toHexString(System.currentTimeMillis());
        Path dir = EmbeddedProfileTest.tempDir("ar-kafka-kill-");
        int portA = EmbeddedProfileTest.freePort();
        int portB = EmbeddedProfileTest.freePort();

        List<int[]> messages = new ArrayList<>();
        for (int t = 0; t < 80; t++) {
            for (int seq = 1; seq <= 25; seq++) {
                messages.add(new int[] {t, seq});
            }
        }
        Collections.shuffle(messages, new Random(13));

        // one after the other: the second finds the schema migrated
        // shuffled posting of 2 000 messages takes longer than the default 2 s gap timeout: with 30 s no
        // predecessor is skipped, so every row must be `processed` and in seq order
        Process a = start(dir, portA, brokers, prefix, "a", "30s");
        Process b = null;
        ExecutorService clients = Executors.newFixedThreadPool(8);
        Set<String> accepted = ConcurrentHashMap.newKeySet();
        AtomicBoolean aKilled = new AtomicBoolean();
        try {
            AppProcess.awaitHealthy(portA);
            b = start(dir, portB, brokers, prefix, "b", "30s");
            AppProcess.awaitHealthy(portB);
            Map<String, Integer> split = awaitBothOwnPartitions(brokers, prefix);
            System.out.printf("kafka kill -9: inbound partitions per instance before the kill %s%n", split);

            AtomicInteger next = new AtomicInteger();
            AtomicInteger refused = new AtomicInteger();
            for (int c = 0; c < 8; c++) {
                clients.submit(() -> {
                    int n;
                    while ((n = next.getAndIncrement()) < messages.size()) {
                        int[] m = messages.get(n);
                        String id = prefix + "-" + m[0] + "-" + m[1];
                        String body = "{\"id\":\"" + id + "\",\"threadId\":\"" + prefix + "-" + m[0] + "\",\"seq\":" + m[1]
                                + ",\"content\":\"load\"}";
                        // both instances take posts until one is killed, then the survivor all of them; a post
                        // the killed one did not answer is sent again to the survivor, as a client would (if
                        // the first one had reached Kafka, the copy is recognised by its id)
                        int port = n % 2 == 0 && !aKilled.get() ? portA : portB;
                        for (int attempt = 0; attempt < 2; attempt++) {
                            try {
                                int status = Http.send("POST", "http://127.0.0.1:" + port + "/api/messages", "application/json",
                                        body, Map.of("X-API-Key", API_KEY)).statusCode();
                                if (status == 202) {
                                    accepted.add(id);
                                    break;
                                }
                            } catch (RuntimeException noAnswer) {
                                // the killed instance
                            }
                            refused.incrementAndGet();
                            port = portB;
                        }
                    }
                });
            }
            await().atMost(Duration.ofSeconds(60)).until(() -> accepted.size() >= 600);
            aKilled.set(true);
            a.destroyForcibly(); // SIGKILL: no shutdown hook, no commit, no leaving the group
            long killedAt = System.nanoTime();
            a.waitFor(30, TimeUnit.SECONDS);
            int atKill = accepted.size();
            clients.shutdown();
            assertThat(clients.awaitTermination(60, TimeUnit.SECONDS)).isTrue();
            System.out.printf("kafka kill -9: %d accepted when the first instance was killed, %d in all, %d posts unanswered (sent again)%n",
                    atKill, accepted.size(), refused.get());

            Set<String> missing = ConcurrentHashMap.newKeySet();
            missing.addAll(accepted);
            try {
                await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(500)).until(() -> {
                    missing.removeAll(storedIds(prefix, null));
                    return missing.isEmpty();
                });
            } catch (org.awaitility.core.ConditionTimeoutException e) {
                throw new AssertionError(missing.size() + " of " + accepted.size() + " accepted messages not stored: "
                        + missing.stream().sorted().limit(20).toList(), e);
            }
            System.out.printf("kafka kill -9: all stored %d ms after the kill; survivor owns %s%n",
                    (System.nanoTime() - killedAt) / 1_000_000, awaitBothOwnPartitions(brokers, prefix, 1));
        } finally {
            clients.shutdownNow();
            a.destroyForcibly();
            if (b != null) {
                b.destroy();
                b.waitFor(60, TimeUnit.SECONDS);
            }
        }

        assertStoredOnceProcessedInOrder(prefix, accepted, 80, "kafka kill -9");
    }

    private static void assertStoredOnceProcessedInOrder(String prefix, Set<String> accepted, int threads, String label)
            throws Exception {
        Map<String, String> statusById = new HashMap<>();
        List<String> stored = storedIds(prefix, statusById);
        Map<String, Long> statuses = new TreeMap<>();
        stored.forEach(id -> statuses.merge(statusById.get(id), 1L, Long::sum));
        System.out.printf("%s: %d accepted, %d rows stored, statuses %s%n", label, accepted.size(), stored.size(), statuses);
        assertThat(stored).doesNotHaveDuplicates();
        assertThat(stored).containsAll(accepted);
        assertThat(statuses).doesNotContainKey("duplicate");
        assertThat(statuses.keySet()).as("no predecessor skipped").containsOnly("processed");
        try (Connection c = DriverManager.getConnection("jdbc:postgresql://127.0.0.1:5432/test?currentSchema=" + SCHEMA, "postgres", "")) {
            for (int t = 0; t < threads; t++) {
                List<Long> seqs = new ArrayList<>();
                try (var s = c.prepareStatement("SELECT seq FROM ar_message WHERE thread_id = ? AND status = 'processed' ORDER BY stored_order")) {
                    s.setString(1, prefix + "-" + t);
                    try (ResultSet rs = s.executeQuery()) {
                        while (rs.next()) {
                            seqs.add(rs.getLong(1));
                        }
                    }
                }
                assertThat(seqs).as("stored order of thread " + t).isSorted();
            }
        }
    }

    private static Process start(Path dir, int port, String brokers, String prefix, String name, String gapTimeout)
            throws Exception {
        return AppProcess.start(List.of(
                "--spring.profiles.active=kafka",
                "--app.data-dir=" + dir.resolve(name),
                "--server.address=127.0.0.1",
                "--server.port=" + port,
                "--app.security.api-key=" + API_KEY,
                "--spring.datasource.url=jdbc:postgresql://127.0.0.1:5432/test?currentSchema=" + SCHEMA,
                "--spring.flyway.schemas=" + SCHEMA,
                "--app.redis.key-prefix=" + KEY_PREFIX,
                "--spring.quartz.scheduler-name=ar-kafka-kill",
                "--app.kafka.brokers=" + brokers,
                "--app.kafka.group-id=" + prefix,
                "--app.kafka.inbound-topic=" + prefix + ".in",
                "--app.kafka.persist-topic=" + prefix + ".persist",
                "--app.kafka.results-topic=" + prefix + ".results",
                "--app.kafka.dead-letter-topic=" + prefix + ".dead-letter",
                "--app.ordering.gap-timeout=" + gapTimeout,
                "--logging.level.root=WARN",
                "--logging.level.io.asyncroutes.kafka=INFO"), new File(dir.toFile(), name + ".log"));
    }

    /** Inbound partitions per member of the group, once {@code members} members each own some. */
    private static Map<String, Integer> awaitBothOwnPartitions(String brokers, String group, int members) {
        Properties props = new Properties();
        props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, brokers);
        Map<String, Integer> split = new TreeMap<>();
        try (Admin admin = Admin.create(props)) {
            await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500)).until(() -> {
                ConsumerGroupDescription d = admin.describeConsumerGroups(List.of(group)).all().get().get(group);
                split.clear();
                for (MemberDescription m : d.members()) {
                    split.put(m.consumerId(), m.assignment().topicPartitions().size());
                }
                return split.size() == members && split.values().stream().allMatch(n -> n > 0)
                        && split.values().stream().mapToInt(Integer::intValue).sum() == 16;
            });
        }
        return split;
    }

    private static Map<String, Integer> awaitBothOwnPartitions(String brokers, String group) {
        return awaitBothOwnPartitions(brokers, group, 2);
    }

    private static List<String> storedIds(String prefix, Map<String, String> statusById) throws Exception {
        try (Connection c = DriverManager.getConnection("jdbc:postgresql://127.0.0.1:5432/test?currentSchema=" + SCHEMA, "postgres", "");
             var s = c.prepareStatement("SELECT id, status FROM ar_message WHERE thread_id LIKE ?")) {
            s.setString(1, prefix + "-%");
            List<String> ids = new ArrayList<>();
            try (ResultSet rs = s.executeQuery()) {
                while (rs.next()) {
                    ids.add(rs.getString(1));
                    if (statusById != null) {
                        statusById.put(rs.getString(1), rs.getString(2));
                    }
                }
            }
            return ids;
        }
    }
}
