package io.asyncroutes.ordering;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.asyncroutes.config.JmsBrokerConfiguration;
import io.asyncroutes.intake.InboundAcknowledgement;
import io.asyncroutes.message.Headers;
import io.asyncroutes.support.EmbeddedProfileTest;
import io.asyncroutes.support.Http;
import io.asyncroutes.support.Json;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import jakarta.jms.ConnectionFactory;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import org.apache.camel.ConsumerTemplate;
import org.apache.camel.ProducerTemplate;
import org.apache.camel.builder.RouteBuilder;
import org.apache.camel.component.jms.JmsComponent;
import org.apache.camel.impl.DefaultCamelContext;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.data.redis.core.StringRedisTemplate;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jms.connection.JmsTransactionManager;

/** Per-thread order through the running application on its embedded default (Artemis, H2, Redis). */
class OrderingEndToEndTest extends EmbeddedProfileTest {

    @LocalServerPort
    int port;
    @Autowired
    ProducerTemplate producer;
    @Autowired
    ConsumerTemplate consumer;
    @Autowired
    JdbcTemplate jdbc;
    @Autowired
    StringRedisTemplate redis;
    @Autowired
    ConnectionFactory connectionFactory;
    @Autowired
    io.micrometer.core.instrument.MeterRegistry meters;

    @Test
    void messagesPostedInReverseOrderAreStoredInSeqOrder() throws Exception {
        String thread = "reverse-" + UUID.randomUUID();
        double gapsBefore = meters.get("ar.ordering.gaps.skipped").counter().count();
        for (int seq = 4; seq >= 1; seq--) {
            post("{\"id\":\"" + thread + "-" + seq + "\",\"threadId\":\"" + thread + "\",\"seq\":" + seq
                    + ",\"content\":\"m" + seq + "\"}");
        }
        await().atMost(Duration.ofSeconds(30)).until(() -> storedSeqs(thread).size() == 4);
        // stored_order is the order in which rows landed: handling and persistence kept seq order
        assertThat(storedSeqs(thread)).containsExactly(1L, 2L, 3L, 4L);
        assertThat(jdbc.queryForList("SELECT status FROM ar_message WHERE thread_id = ?", String.class, thread))
                .containsOnly("processed");
        assertThat(redis.opsForValue().get("ar:seq:" + thread)).isEqualTo("4");
        // the early ones waited in the gate for their predecessors: no gap was skipped
        assertThat(meters.get("ar.ordering.gaps.skipped").counter().count() - gapsBefore).isZero();
    }

    @Test
    void shuffledQueueMessagesWithoutGroupAreStoredInSeqOrder() {
        String thread = "shuffled-" + UUID.randomUUID();
        List<Integer> seqs = new ArrayList<>();
        for (int seq = 1; seq <= 12; seq++) {
            seqs.add(seq);
        }
        Collections.shuffle(seqs, new Random(7));
        for (int seq : seqs) {
            // no JMSXGroupID: the 8 inbound consumers take them in parallel, the gate orders them
            producer.sendBody("jms:queue:ar.in", "{\"id\":\"" + thread + "-" + seq + "\",\"threadId\":\"" + thread
                    + "\",\"seq\":" + seq + ",\"content\":\"m" + seq + "\"}");
        }
        await().atMost(Duration.ofSeconds(60)).until(() -> storedSeqs(thread).size() == 12);
        assertThat(storedSeqs(thread)).isSorted().hasSize(12);
        assertThat(jdbc.queryForList("SELECT status FROM ar_message WHERE thread_id = ?", String.class, thread))
                .as("no gap skipped, no seq taken for a duplicate").containsOnly("processed");
    }

    @Test
    void aReplayedSeqWithANewIdIsRecordedAsDuplicate() throws Exception {
        String thread = "replay-" + UUID.randomUUID();
        post("{\"id\":\"" + thread + "-a\",\"threadId\":\"" + thread + "\",\"seq\":1,\"content\":\"first\"}");
        await().atMost(Duration.ofSeconds(10)).until(() -> storedSeqs(thread).size() == 1);

        String replayId = thread + "-b";
        post("{\"id\":\"" + replayId + "\",\"threadId\":\"" + thread + "\",\"seq\":1,\"content\":\"replayed\"}");
        String published = consumer.receiveBody("jms:queue:ar.results?selector=arMessageId='" + replayId + "'",
                10_000, String.class);
        assertThat(published).isNotNull();
        assertThat(Json.MAPPER.readTree(published).path("status").asText()).isEqualTo("duplicate");
        await().atMost(Duration.ofSeconds(10)).until(() -> storedSeqs(thread).size() == 2);
        assertThat(jdbc.queryForObject("SELECT status FROM ar_message WHERE id = ?", String.class, replayId))
                .isEqualTo("duplicate");
    }

    /**
     * Two "instances" (two CamelContexts, each with its own gate and 4 asynchronous consumers) on one
     * Artemis queue, sharing the last-seq store in Redis: JMS message groups keep each thread on one
     * consumer at a time, so every thread is handled in order and never in two places at once.
     */
    @Test
    void twoInstancesOnOneQueueKeepPerThreadOrder() throws Exception {
        String queue = "ar.test-groups-" + UUID.randomUUID();
        String keyPrefix = "ar-two:" + UUID.randomUUID() + ":";
        Map<String, List<Long>> handled = new ConcurrentHashMap<>();
        Map<String, AtomicInteger> inFlight = new ConcurrentHashMap<>();
        AtomicInteger maxOverlap = new AtomicInteger();
        AtomicInteger[] perInstance = {new AtomicInteger(), new AtomicInteger()};
        List<DefaultCamelContext> instances = new ArrayList<>();
        try {
            for (int i = 0; i < 2; i++) {
                int instance = i;
                DefaultCamelContext camel = new DefaultCamelContext();
                camel.addComponent("jms", JmsBrokerConfiguration.individualAcknowledge(connectionFactory));
                KeyedResequencer gate = new KeyedResequencer(
                        e -> e.getMessage().getHeader(Headers.JMS_GROUP, String.class),
                        e -> e.getMessage().getHeader("seq", Long.class),
                        new RedisSeqStore(redis, keyPrefix, Duration.ofMinutes(5)),
                        Duration.ofSeconds(2), 16, 100, 1000, new SimpleMeterRegistry());
                gate.setContinueOnPool(true);
                InboundAcknowledgement acknowledgement = new InboundAcknowledgement(Duration.ofMillis(100), Duration.ofSeconds(1));
                camel.addRoutes(new RouteBuilder() {
                    @Override
                    public void configure() {
                        from("jms:queue:" + queue + "?concurrentConsumers=4&asyncConsumer=true").routeId("instance-" + instance)
                                .process(acknowledgement)
                                .process(gate)
                                .process(exchange -> {
                                    String thread = exchange.getMessage().getHeader(Headers.JMS_GROUP, String.class);
                                    AtomicInteger probe = inFlight.computeIfAbsent(thread, k -> new AtomicInteger());
                                    maxOverlap.accumulateAndGet(probe.incrementAndGet(), Math::max);
                                    handled.computeIfAbsent(thread, k -> new CopyOnWriteArrayList<>())
                                            .add(exchange.getMessage().getHeader("seq", Long.class));
                                    perInstance[instance].incrementAndGet();
                                    // simulated work, so that messages really overlap if they could
                                    LockSupport.parkNanos(ThreadLocalRandom.current().nextLong(200_000, 1_000_000));
                                    probe.decrementAndGet();
                                });
                    }
                });
                camel.start();
                instances.add(camel);
            }
            int threads = 16;
            int perThread = 25;
            List<int[]> sends = new ArrayList<>();
            int[] next = new int[threads];
            Random random = new Random(11);
            for (int n = 0; n < threads * perThread; n++) {
                int t;
                do {
                    t = random.nextInt(threads);
                } while (next[t] == perThread);
                sends.add(new int[] {t, ++next[t]});
            }
            for (int[] send : sends) {
                producer.sendBodyAndHeaders("jms:queue:" + queue, "x",
                        Map.of(Headers.JMS_GROUP, "g-" + send[0], "seq", (long) send[1]));
            }
            await().atMost(Duration.ofSeconds(60)).until(() ->
                    handled.values().stream().mapToInt(List::size).sum() == threads * perThread);
            for (int t = 0; t < threads; t++) {
                List<Long> expected = new ArrayList<>();
                for (long s = 1; s <= perThread; s++) {
                    expected.add(s);
                }
                assertThat(handled.get("g-" + t)).as("order of g-" + t).containsExactlyElementsOf(expected);
            }
            assertThat(maxOverlap.get()).isEqualTo(1);
            assertThat(perInstance[0].get()).as("instance 0 took part").isPositive();
            assertThat(perInstance[1].get()).as("instance 1 took part").isPositive();
        } finally {
            instances.forEach(DefaultCamelContext::stop);
            redis.delete(redis.keys(keyPrefix + "*"));
        }
    }

    private List<Long> storedSeqs(String thread) {
        return jdbc.queryForList("SELECT seq FROM ar_message WHERE thread_id = ? ORDER BY stored_order", Long.class, thread);
    }

    private void post(String body) throws Exception {
        HttpResponse<String> response = Http.postJson("http://127.0.0.1:" + port + "/api/messages", body);
        assertThat(response.statusCode()).as(response.body()).isEqualTo(202);
    }
}
