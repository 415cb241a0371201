package io.asyncroutes.persistence;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.asyncroutes.message.Headers;
import io.asyncroutes.support.FaultInjectionTest;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.camel.CamelContext;
import org.apache.camel.ProducerTemplate;
import org.apache.camel.builder.AdviceWith;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.JdbcTemplate;

/**
 * The gap a plain wireTap leaves (README "Why the wireTap cannot lose a save"): Camel runs the tap on a pool after the caller moves on
 * and stops that pool with shutdownNow, so a queued tap can vanish. Here the tap of a message is
 * made to vanish exactly that way on its first attempt (dropped before it reaches the durable
 * queue, its completion never signalled). The inbound message must not be acknowledged: the
 * broker redelivers it, and the result is stored exactly once.
 */
class PersistHandoffTest extends FaultInjectionTest {

    private static final Map<String, AtomicInteger> TAP_ATTEMPTS = new ConcurrentHashMap<>();

    @Autowired
    CamelContext camel;
    @Autowired
    ProducerTemplate producer;
    @Autowired
    JdbcTemplate jdbc;

    @Test
    void aLostWireTapLeavesTheInboundMessageUnacknowledgedAndItIsStoredOnce() throws Exception {
        AdviceWith.adviceWith(camel, "persist-handoff", route -> route.weaveAddFirst().process(exchange -> {
            String id = exchange.getMessage().getHeader(Headers.MESSAGE_ID, String.class);
            if (id != null && id.startsWith("lost-tap-")
                    && TAP_ATTEMPTS.computeIfAbsent(id, k -> new AtomicInteger()).incrementAndGet() == 1) {
                exchange.setRouteStop(true); // the tap is gone: nothing enqueued, nothing signalled
            }
        }));
        String id = "lost-tap-" + UUID.randomUUID();

        producer.sendBodyAndHeader("jms:queue:ar.in", "{\"id\":\"" + id + "\",\"threadId\":\"tap\",\"content\":\"keep me\"}",
                Headers.JMS_GROUP, "tap");

        await().atMost(Duration.ofSeconds(20)).until(() ->
                jdbc.queryForObject("SELECT COUNT(*) FROM ar_message WHERE id = ?", Integer.class, id) == 1);
        assertThat(TAP_ATTEMPTS.get(id).get()).as("the message was handled again after its tap was lost").isEqualTo(2);
        assertThat(jdbc.queryForObject("SELECT status FROM ar_message WHERE id = ?", String.class, id)).isEqualTo("processed");
    }
}
