package io.asyncroutes.persistence;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.asyncroutes.support.ServicesProfileTest;
import java.sql.Connection;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import javax.sql.DataSource;
import org.apache.camel.ProducerTemplate;
import org.junit.jupiter.api.Test;
import org.postgresql.core.BaseConnection;
import org.springframework.amqp.core.Message;
import org.springframework.amqp.rabbit.core.RabbitTemplate;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.JdbcTemplate;

/**
 * {@code persist-batch} on PostgreSQL with the driver's batch rewriting ({@code reWriteBatchedInserts},
 * {@code config/application-services.yaml}): a batch becomes multi-row INSERTs, and {@code ON CONFLICT
 * DO NOTHING} still keeps the first write of an id, within one batch and across batches, in order.
 */
class BatchInsertServicesTest extends ServicesProfileTest {

    @Autowired
    DataSource dataSource;
    @Autowired
    JdbcTemplate jdbc;
    @Autowired
    ProducerTemplate producer;
    @Autowired
    RabbitTemplate rabbit;

    @Test
    void theApplicationsConnectionsRewriteBatchedInserts() throws Exception {
        try (Connection connection = dataSource.getConnection()) {
            assertThat(connection.unwrap(BaseConnection.class).getQueryExecutor().isReWriteBatchedInsertsEnabled()).isTrue();
        }
    }

    @Test
    void aRewrittenBatchKeepsTheFirstWriteOfEachIdAndTheBatchOrder() {
        String thread = "batch-" + UUID.randomUUID();
        String earlier = thread + "-earlier";
        producer.sendBody("direct:persist-batch", ResultRows.of("[" + result(earlier, thread, 1, "processed") + "]"));

        // 37 rows: the driver packs them as 32 + 4 + 1 rows per statement, so several statements carry the batch
        StringBuilder batch = new StringBuilder("[").append(result(earlier, thread, 1, "duplicate"));
        for (int i = 2; i <= 36; i++) {
            batch.append(',').append(result(thread + "-" + i, thread, i, "processed"));
        }
        batch.append(',').append(result(thread + "-2", thread, 2, "late")).append(']');
        List<Map<String, Object>> rows = ResultRows.of(batch.toString());
        assertThat(rows).hasSize(37);
        producer.sendBody("direct:persist-batch", rows);

        List<Map<String, Object>> stored = jdbc.queryForList(
                "SELECT id, seq, status FROM ar_message WHERE thread_id = ? ORDER BY stored_order", thread);
        assertThat(stored).hasSize(36);
        assertThat(stored).extracting(row -> ((Number) row.get("seq")).intValue())
                .containsExactlyElementsOf(java.util.stream.IntStream.rangeClosed(1, 36).boxed().toList());
        assertThat(stored).extracting(row -> row.get("status")).containsOnly("processed");
    }

    @Test
    void aRewrittenBatchWithARowTheDatabaseRefusesIsWrittenRowByRowAndOnlyThatRowIsDeadLettered() {
        // the multi-row statement fails whole on PostgreSQL; the group commit then writes row by row
        String thread = "batch-bad-" + UUID.randomUUID();
        StringBuilder batch = new StringBuilder("[");
        for (int i = 1; i <= 20; i++) {
            batch.append(i == 1 ? "" : ",").append(result(thread + "-" + i, thread, i, "processed"));
        }
        String bad = thread + "-unwritable";
        batch.append(',').append(result(bad, thread, 21, "s".repeat(40))).append(']'); // status is VARCHAR(16)
        producer.sendBodyAndHeader("{{app.endpoints.persist-publish}}", batch.toString(), "JMSXGroupID", thread);

        await().atMost(Duration.ofSeconds(20)).until(() ->
                jdbc.queryForObject("SELECT COUNT(*) FROM ar_message WHERE thread_id = ?", Integer.class, thread) == 20);
        Message dead = null;
        for (int i = 0; i < 20 && dead == null; i++) { // other tests of this context dead-letter too
            Message next = rabbit.receive(PREFIX + ".dead-letter", 10_000);
            assertThat(next).as("dead letter of " + bad).isNotNull();
            dead = new String(next.getBody()).contains(bad) ? next : null;
        }
        assertThat(dead).as("dead letter of " + bad).isNotNull();
        assertThat((String) dead.getMessageProperties().getHeader("arDeadLetterReason")).startsWith("unwritable_row");
        assertThat(new String(dead.getBody())).doesNotContain(thread + "-1\"");
        assertThat(jdbc.queryForObject("SELECT COUNT(*) FROM ar_message WHERE id = ?", Integer.class, bad)).isZero();
    }

    private static String result(String id, String thread, long seq, String status) {
        String now = Instant.now().toString();
        return "{\"id\":\"" + id + "\",\"threadId\":\"" + thread + "\",\"seq\":" + seq + ",\"status\":\"" + status
                + "\",\"receivedAt\":\"" + now + "\",\"processedAt\":\"" + now + "\",\"content\":\"batch\"}";
    }
}
