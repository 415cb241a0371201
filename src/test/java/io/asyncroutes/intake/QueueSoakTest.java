package io.asyncroutes.intake;

import io.asyncroutes.message.Headers;
import io.asyncroutes.support.EmbeddedProfileTest;
import io.asyncroutes.support.QueueSoak;
import java.util.HashMap;
import java.util.Map;
import org.apache.camel.ConsumerTemplate;
import org.apache.camel.Exchange;
import org.apache.camel.ProducerTemplate;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.JdbcTemplate;

/** The queue soak ({@link QueueSoak}) on the embedded default: Artemis, H2. */
class QueueSoakTest extends EmbeddedProfileTest {

    @Autowired
    ProducerTemplate producer;
    @Autowired
    ConsumerTemplate consumer;
    @Autowired
    JdbcTemplate jdbc;

    @Test
    void everyMessageIsStoredOrDeadLetteredWithItsReasonAndTheQueueKeepsFlowing() {
        QueueSoak.run(1_000,
                (body, thread, headers) -> {
                    Map<String, Object> all = new HashMap<>(headers);
                    all.put(Headers.JMS_GROUP, thread);
                    producer.sendBodyAndHeaders("jms:queue:ar.in", body, all); // byte[] travels as a BytesMessage
                },
                (run, collect) -> {
                    Exchange dead;
                    while ((dead = consumer.receive("jms:queue:ar.dead-letter?selector=soakRun='" + run + "'", 100)) != null) {
                        collect.accept(dead.getMessage().getHeader("soakIndex", Integer.class),
                                dead.getMessage().getHeader(Headers.DEAD_LETTER_REASON, String.class));
                    }
                },
                jdbc);
    }
}
