package io.asyncroutes.intake;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.asyncroutes.support.Http;
import io.asyncroutes.support.KafkaProfileTest;
import io.asyncroutes.support.KafkaTestBroker;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.autoconfigure.actuate.observability.AutoConfigureObservability;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.jdbc.core.JdbcTemplate;

/**
 * The {@code kafka} profile's intake against a real broker: a record another system put on the
 * inbound topic is handled like a posted one, an unusable one goes to the dead-letter topic with its
 * reason, and once the pipeline is idle the committed offsets of every inbound partition have
 * reached the end of the partition (each record completed, the floor moved past it).
 */
@AutoConfigureObservability // the same context as DisorderedArrivalKafkaTest: started once
class KafkaIntakeTest extends KafkaProfileTest {

    @LocalServerPort
    int port;
    @Autowired
    JdbcTemplate jdbc;
    @Autowired
    org.apache.camel.CamelContext camel;

    @Test
    void aRecordFromAnotherSystemIsHandledAndAnUnusableOneIsDeadLetteredWithItsReason() throws Exception {
        String thread = "kin-" + UUID.randomUUID();
        RecordMetadata bad;
        try (KafkaProducer<String, String> producer = producer()) {
            producer.send(new ProducerRecord<>(PREFIX + ".in", thread,
                    "{\"id\":\"" + thread + "-1\",\"threadId\":\"" + thread + "\",\"seq\":1,\"content\":\"from a producer\"}")).get();
            bad = producer.send(new ProducerRecord<>(PREFIX + ".in", thread, "{not json")).get();
        }
        await().atMost(Duration.ofSeconds(30)).until(() -> jdbc.queryForObject(
                "SELECT count(*) FROM ar_message WHERE id = ? AND status = 'processed'", Integer.class, thread + "-1") == 1);

        Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, KafkaTestBroker.brokers());
        props.put(ConsumerConfig.GROUP_ID_CONFIG, "dead-letter-reader-" + UUID.randomUUID());
        props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        try (KafkaConsumer<String, String> reader = new KafkaConsumer<>(props, new StringDeserializer(), new StringDeserializer())) {
            reader.subscribe(List.of(PREFIX + ".dead-letter"));
            ConsumerRecord<String, String>[] found = new ConsumerRecord[1];
            await().atMost(Duration.ofSeconds(30)).until(() -> {
                for (ConsumerRecord<String, String> r : reader.poll(Duration.ofMillis(200))) {
                    if ("{not json".equals(r.value())) {
                        found[0] = r;
                    }
                }
                return found[0] != null;
            });
            String reason = new String(found[0].headers().lastHeader("arDeadLetterReason").value(), StandardCharsets.UTF_8);
            System.out.printf("kafka intake: dead-lettered with reason %s%n", reason);
            assertThat(reason).isNotBlank();
            assertThat(found[0].key()).isEqualTo(thread);
        }

        // the dead-lettered record completed: the partition's committed offset moves past it
        TopicPartition partition = new TopicPartition(bad.topic(), bad.partition());
        await().atMost(Duration.ofSeconds(30)).until(() -> committed(partition) > bad.offset());
    }

    /**
     * A backlog read faster than the pipeline takes it: the poller reads up to 500 records a poll
     * from 16 partitions, more than the in-memory hand-off queue holds (1 000). It waits for room;
     * before, a record that found the queue full failed with "Queue full" and was dropped, its offset
     * never completed (seen in KafkaKillNineTest, when the survivor took over a backlog: 21 of 2 000
     * messages not stored).
     */
    @Test
    void aBacklogLargerThanTheHandOffQueueIsStoredWhole() throws Exception {
        String run = "kburst-" + UUID.randomUUID().toString().substring(0, 8);
        int records = 4_000;
        camel.getRouteController().stopRoute(io.asyncroutes.kafka.KafkaBridgeRoutes.INBOUND_ROUTE);
        try (KafkaProducer<String, String> producer = producer()) {
            for (int i = 0; i < records; i++) {
                String thread = run + "-" + (i % 200);
                producer.send(new ProducerRecord<>(PREFIX + ".in", thread, "{\"id\":\"" + run + "-" + i + "\",\"threadId\":\""
                        + thread + "\",\"seq\":" + (i / 200 + 1) + ",\"content\":\"backlog\"}"));
            }
            producer.flush();
        } finally {
            camel.getRouteController().startRoute(io.asyncroutes.kafka.KafkaBridgeRoutes.INBOUND_ROUTE);
        }
        await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(500)).until(() -> jdbc.queryForObject(
                "SELECT count(*) FROM ar_message WHERE thread_id LIKE ?", Integer.class, run + "-%") == records);
        assertThat(jdbc.queryForObject("SELECT count(*) FROM ar_message WHERE thread_id LIKE ? AND status = 'processed'",
                Integer.class, run + "-%")).isEqualTo(records);
    }

    @Test
    void onceIdleTheCommittedOffsetOfEveryPartitionIsItsEnd() throws Exception {
        String run = "kend-" + UUID.randomUUID().toString().substring(0, 8);
        for (int i = 0; i < 200; i++) {
            assertThat(Http.send("POST", "http://127.0.0.1:" + port + "/api/messages", "application/json",
                    "{\"threadId\":\"" + run + "-" + (i % 40) + "\",\"content\":\"x\"}", Map.of("X-API-Key", API_KEY))
                    .statusCode()).isEqualTo(202);
        }
        await().atMost(Duration.ofSeconds(60)).until(() -> jdbc.queryForObject(
                "SELECT count(*) FROM ar_message WHERE thread_id LIKE ?", Integer.class, run + "-%") == 200);
        try (Admin admin = admin()) {
            Map<TopicPartition, OffsetSpec> latest = admin.describeTopics(List.of(PREFIX + ".in")).allTopicNames().get()
                    .get(PREFIX + ".in").partitions().stream()
                    .collect(Collectors.toMap(p -> new TopicPartition(PREFIX + ".in", p.partition()), p -> OffsetSpec.latest()));
            Map<TopicPartition, Long> ends = admin.listOffsets(latest).all().get().entrySet().stream()
                    .collect(Collectors.toMap(Map.Entry::getKey, e -> e.getValue().offset()));
            assertThat(ends).hasSize(16);
            await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
                Map<TopicPartition, Long> committed = admin.listConsumerGroupOffsets(PREFIX).partitionsToOffsetAndMetadata().get()
                        .entrySet().stream().collect(Collectors.toMap(Map.Entry::getKey, e -> e.getValue().offset()));
                ends.forEach((tp, end) -> assertThat(end == 0 ? 0L : committed.get(tp)).as(tp.toString()).isEqualTo(end));
            });
        }
    }

    /**
     * Partitions taken away and given back under load: while 40 threads × 25 sequenced messages are
     * posted (shuffled within windows of 80), another member joins the consumer group twice (a plain
     * consumer with the same group and assignor that takes its share, reads without committing, and
     * leaves). Each time the application revokes half its partitions with messages in flight: it
     * drains them, commits what completed, drops what still waited in its ordering gate, and when the
     * partitions come back it reads on from its own commits. Nothing lost, nothing stored twice, none
     * {@code duplicate}, each thread's handled messages stored in seq order.
     */
    @Test
    void partitionsMovingAwayAndBackUnderLoadLoseNothingAndKeepOrder() throws Exception {
        String run = "kmove-" + UUID.randomUUID().toString().substring(0, 8);
        java.util.List<String> bodies = new java.util.ArrayList<>();
        for (int seq = 1; seq <= 25; seq++) {
            for (int t = 0; t < 40; t++) {
                bodies.add("{\"id\":\"" + run + "-" + t + "-" + seq + "\",\"threadId\":\"" + run + "-" + t
                        + "\",\"seq\":" + seq + ",\"content\":\"m\"}");
            }
        }
        for (int from = 0; from < bodies.size(); from += 80) {
            java.util.Collections.shuffle(bodies.subList(from, Math.min(bodies.size(), from + 80)), new java.util.Random(from));
        }
        java.util.concurrent.ExecutorService clients = java.util.concurrent.Executors.newFixedThreadPool(8);
        java.util.concurrent.atomic.AtomicInteger accepted = new java.util.concurrent.atomic.AtomicInteger();
        java.util.concurrent.atomic.AtomicInteger revocations = new java.util.concurrent.atomic.AtomicInteger();
        try {
            java.util.List<java.util.concurrent.Future<?>> posts = new java.util.ArrayList<>();
            for (String body : bodies) {
                posts.add(clients.submit(() -> {
                    assertThat(Http.send("POST", "http://127.0.0.1:" + port + "/api/messages", "application/json", body,
                            Map.of("X-API-Key", API_KEY)).statusCode()).isEqualTo(202);
                    accepted.incrementAndGet();
                }));
            }
            for (int visit = 1; visit <= 2; visit++) {
                int before = accepted.get();
                await().atMost(Duration.ofSeconds(30)).until(() -> accepted.get() >= Math.min(before + 250, bodies.size()));
                revocations.addAndGet(visitTheGroup());
            }
            for (java.util.concurrent.Future<?> post : posts) {
                post.get();
            }
        } finally {
            clients.shutdownNow();
        }
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(250)).until(() -> jdbc.queryForObject(
                "SELECT count(*) FROM ar_message WHERE thread_id LIKE ?", Integer.class, run + "-%") >= 1000);
        Map<String, Long> statuses = new java.util.TreeMap<>();
        jdbc.queryForList("SELECT status, count(*) AS n FROM ar_message WHERE thread_id LIKE ? GROUP BY status", run + "-%")
                .forEach(row -> statuses.put((String) row.get("status"), ((Number) row.get("n")).longValue()));
        System.out.printf("kafka partitions moved: %d partitions taken away and given back under load; 1000 posted, statuses %s%n",
                revocations.get(), statuses);
        assertThat(revocations.get()).isPositive();
        assertThat(statuses.values().stream().mapToLong(Long::longValue).sum()).isEqualTo(1000);
        assertThat(statuses).doesNotContainKey("duplicate");
        for (int t = 0; t < 40; t++) {
            assertThat(jdbc.queryForList("SELECT seq FROM ar_message WHERE thread_id = ? AND status = 'processed'"
                    + " ORDER BY stored_order", Long.class, run + "-" + t)).as("stored order of thread " + t).isSorted();
        }
    }

    /** Joins the application's consumer group, takes a share of the inbound partitions, leaves without committing. */
    private static int visitTheGroup() {
        Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, KafkaTestBroker.brokers());
        props.put(ConsumerConfig.GROUP_ID_CONFIG, PREFIX);
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        props.put(ConsumerConfig.PARTITION_ASSIGNMENT_STRATEGY_CONFIG,
                org.apache.kafka.clients.consumer.CooperativeStickyAssignor.class.getName());
        try (KafkaConsumer<String, String> visitor = new KafkaConsumer<>(props, new StringDeserializer(), new StringDeserializer())) {
            visitor.subscribe(List.of(PREFIX + ".in"));
            await().atMost(Duration.ofSeconds(30)).until(() -> {
                visitor.poll(Duration.ofMillis(100));
                return !visitor.assignment().isEmpty();
            });
            return visitor.assignment().size();
        }
    }

    private static long committed(TopicPartition partition) throws Exception {
        try (Admin admin = admin()) {
            OffsetAndMetadata offset = admin.listConsumerGroupOffsets(PREFIX).partitionsToOffsetAndMetadata().get().get(partition);
            return offset == null ? -1 : offset.offset();
        }
    }

    private static Admin admin() {
        Properties props = new Properties();
        props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, KafkaTestBroker.brokers());
        return Admin.create(props);
    }

    private static KafkaProducer<String, String> producer() {
        Properties props = new Properties();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, KafkaTestBroker.brokers());
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        return new KafkaProducer<>(props, new StringSerializer(), new StringSerializer());
    }
}
