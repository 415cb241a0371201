package io.asyncroutes.persistence;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.asyncroutes.message.Headers;
import io.asyncroutes.support.EmbeddedProfileTest;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import org.apache.camel.ConsumerTemplate;
import org.apache.camel.Exchange;
import org.apache.camel.ProducerTemplate;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.JdbcTemplate;

/** persist-message: idempotent batched writes, dead-lettering of rows that can never be written, landing order. */
class PersistMessageTest extends EmbeddedProfileTest {

    @Autowired
    ProducerTemplate producer;
    @Autowired
    ConsumerTemplate consumer;
    @Autowired
    JdbcTemplate jdbc;

    @Test
    void onH2StoredOrderComesFromACacheOf1000() {
        // db/vendor/h2: H2 writes a sequence back in a commit of its own each time its cache runs out
        assertThat(jdbc.queryForObject("SELECT identity_cache FROM information_schema.columns"
                + " WHERE table_name = 'ar_message' AND column_name = 'stored_order'", Long.class)).isEqualTo(1000L);
    }

    @Test
    void aSecondWriteOfTheSameIdChangesNothing() {
        String id = "idem-" + UUID.randomUUID();
        producer.sendBody("jms:queue:ar.persist", result(id, "t-idem", "first"));
        awaitRows("id = ?", id, 1);
        producer.sendBody("jms:queue:ar.persist", result(id, "t-idem", "second"));
        String marker = "idem-marker-" + UUID.randomUUID();
        producer.sendBody("jms:queue:ar.persist", result(marker, "t-idem", "after"));
        awaitRows("id = ?", marker, 1); // the queue moved past the second write

        assertThat(jdbc.queryForObject("SELECT COUNT(*) FROM ar_message WHERE id = ?", Integer.class, id)).isEqualTo(1);
        assertThat(jdbc.queryForObject("SELECT result FROM ar_message WHERE id = ?", String.class, id)).contains("\"first\"");
    }

    @Test
    void aRowThatCanNeverBeWrittenIsDeadLetteredAndTheOthersAreStored() {
        String marker = UUID.randomUUID().toString();
        String tooLong = "t".repeat(200); // the validator would refuse it; a foreign producer need not
        String bad = result("bad-" + marker, tooLong, "cannot fit");
        for (int i = 0; i < 20; i++) {
            producer.sendBody("jms:queue:ar.persist", result("good-" + marker + "-" + i, "t-" + marker, "ok"));
        }
        producer.sendBodyAndHeader("jms:queue:ar.persist", bad, "testMarker", marker);
        producer.sendBodyAndHeader("jms:queue:ar.persist", "not a result at all", "testMarker", marker);

        awaitRows("thread_id = ?", "t-" + marker, 20);
        List<String> reasons = List.of(deadLetterReason(marker), deadLetterReason(marker));
        assertThat(reasons).anySatisfy(r -> assertThat(r).startsWith("unwritable_row"));
        assertThat(reasons).anySatisfy(r -> assertThat(r).startsWith("invalid_result: not a message result"));
        assertThat(jdbc.queryForObject("SELECT COUNT(*) FROM ar_message WHERE id = ?", Integer.class, "bad-" + marker)).isZero();
    }

    @Test
    void aHandoffBatchIsStoredRowByRowAndItsUnwritableRowAloneIsDeadLettered() {
        String marker = UUID.randomUUID().toString();
        StringBuilder batch = new StringBuilder("[");
        for (int i = 0; i < 30; i++) {
            batch.append(i == 0 ? "" : ",").append(result("batch-" + marker + "-" + i, "tb-" + marker, "ok"));
        }
        batch.append(",").append(result("batch-bad-" + marker, "t".repeat(200), "cannot fit")).append("]");
        producer.sendBodyAndHeader("jms:queue:ar.persist", batch.toString(), "testMarker", marker);

        awaitRows("thread_id = ?", "tb-" + marker, 30);
        Exchange dead = consumer.receive("jms:queue:ar.dead-letter?selector=testMarker='" + marker + "'", 15_000);
        assertThat(dead).as("dead letter").isNotNull();
        assertThat(dead.getMessage().getHeader(Headers.DEAD_LETTER_REASON, String.class)).startsWith("unwritable_row");
        assertThat(dead.getMessage().getBody(String.class)).as("only the bad row").contains("batch-bad-" + marker)
                .doesNotContain("batch-" + marker + "-0");
    }

    @Test
    void aBatchWithAMalformedElementIsDeadLetteredWhole() {
        String marker = UUID.randomUUID().toString();
        String batch = "[" + result("mal-" + marker, "tm-" + marker, "ok") + ",{\"id\":\"no-thread\"}]";
        producer.sendBodyAndHeader("jms:queue:ar.persist", batch, "testMarker", marker);

        assertThat(deadLetterReason(marker)).startsWith("invalid_result: not a message result")
                .contains("batch element 1");
        assertThat(jdbc.queryForObject("SELECT COUNT(*) FROM ar_message WHERE id = ?", Integer.class, "mal-" + marker)).isZero();
    }

    @Test
    void savesOfOneThreadLandInOrder() {
        String thread = "order-" + UUID.randomUUID();
        int messages = 300;
        for (int seq = 1; seq <= messages; seq++) {
            producer.sendBodyAndHeader("jms:queue:ar.in",
                    "{\"id\":\"" + thread + "-" + seq + "\",\"threadId\":\"" + thread + "\",\"seq\":" + seq + ",\"content\":\"m\"}",
                    Headers.JMS_GROUP, thread);
        }
        awaitRows("thread_id = ?", thread, messages);

        List<Long> seqsInLandingOrder = jdbc.queryForList(
                "SELECT seq FROM ar_message WHERE thread_id = ? ORDER BY stored_order", Long.class, thread);
        assertThat(seqsInLandingOrder).isSorted().hasSize(messages);
    }

    private String deadLetterReason(String marker) {
        Exchange dead = consumer.receive("jms:queue:ar.dead-letter?selector=testMarker='" + marker + "'", 15_000);
        assertThat(dead).as("dead letter").isNotNull();
        return dead.getMessage().getHeader(Headers.DEAD_LETTER_REASON, String.class);
    }

    private void awaitRows(String where, String value, int count) {
        await().atMost(Duration.ofSeconds(20)).until(() ->
                jdbc.queryForObject("SELECT COUNT(*) FROM ar_message WHERE " + where, Integer.class, value) == count);
    }

    /** A result received just now: an old receivedAt would be deleted by the minute's cleanup tick (retention). */
    private static String result(String id, String threadId, String content) {
        java.time.Instant now = java.time.Instant.now();
        return "{\"id\":\"" + id + "\",\"threadId\":\"" + threadId + "\",\"seq\":null,\"content\":\"" + content
                + "\",\"status\":\"processed\",\"receivedAt\":\"" + now + "\",\"processedAt\":\"" + now.plusMillis(1) + "\"}";
    }
}
