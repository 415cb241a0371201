package io.asyncroutes.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.asyncroutes.support.DisorderedLoad;
import io.asyncroutes.support.EmbeddedProfileTest;
import io.asyncroutes.support.Http;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.jdbc.core.JdbcTemplate;

/**
 * Per-thread order under concurrent, disordered arrival on the embedded default (SPEC §5): 40
 * threads x 25 messages from 16 concurrent clients, with the default gap timeout. Early messages
 * wait in the ordering gate while the consumer reads on, so no gap is skipped and nothing is taken
 * for a duplicate; a predecessor that really never came is skipped and, when it turns up, is late.
 */
class DisorderedArrivalTest extends EmbeddedProfileTest {

    @LocalServerPort
    int port;
    @Autowired
    JdbcTemplate jdbc;
    @Autowired
    MeterRegistry meters;

    @Test
    void fortyThreadsPostedInThreadOrderByConcurrentClientsAreAllProcessedInOrder() throws Exception {
        assertAllProcessedInOrder(false);
    }

    @Test
    void fortyThreadsPostedShuffledByConcurrentClientsAreAllProcessedInOrder() throws Exception {
        assertAllProcessedInOrder(true);
    }

    private void assertAllProcessedInOrder(boolean shuffled) throws Exception {
        double gapsBefore = gapsSkipped();
        String run = "dis-" + UUID.randomUUID().toString().substring(0, 8);
        DisorderedLoad.Outcome outcome = DisorderedLoad.run("http://127.0.0.1:" + port, Map.of(), jdbc, run, 40, 25, 16, shuffled);
        DisorderedLoad.assertNoGapSkippedWhenPostedWithinTheGapTimeout(outcome, gapsSkipped() - gapsBefore, 1000);
    }

    @Test
    void aPredecessorThatNeverCameIsSkippedAfterTheTimeoutAndIsLateWhenItComes() throws Exception {
        String thread = "gap-" + UUID.randomUUID().toString().substring(0, 8);
        double gapsBefore = gapsSkipped();
        post(thread, 1);
        post(thread, 3);
        post(thread, 4);
        // seq 2 is missing: 3 and 4 wait for the gap timeout (2 s), then go on
        await().atMost(Duration.ofSeconds(15)).until(() -> status(thread + "-4") != null);
        assertThat(gapsSkipped() - gapsBefore).isEqualTo(1);
        assertThat(status(thread + "-3")).isEqualTo("processed");
        post(thread, 2);
        await().atMost(Duration.ofSeconds(15)).until(() -> status(thread + "-2") != null);
        assertThat(status(thread + "-2")).isEqualTo("late");
        // handled now: a second message claiming seq 2 is a duplicate
        Http.postJson(base(), "{\"id\":\"" + thread + "-2b\",\"threadId\":\"" + thread + "\",\"seq\":2,\"content\":\"again\"}");
        await().atMost(Duration.ofSeconds(15)).until(() -> status(thread + "-2b") != null);
        assertThat(status(thread + "-2b")).isEqualTo("duplicate");
        assertThat(jdbc.queryForList("SELECT seq FROM ar_message WHERE thread_id = ? AND status <> 'duplicate' ORDER BY stored_order",
                Long.class, thread)).containsExactly(1L, 3L, 4L, 2L);
    }

    private void post(String thread, int seq) {
        assertThat(Http.postJson(base(), "{\"id\":\"" + thread + "-" + seq + "\",\"threadId\":\"" + thread
                + "\",\"seq\":" + seq + ",\"content\":\"m\"}").statusCode()).isEqualTo(202);
    }

    private String status(String id) {
        return jdbc.queryForList("SELECT status FROM ar_message WHERE id = ?", String.class, id).stream().findFirst().orElse(null);
    }

    private String base() {
        return "http://127.0.0.1:" + port + "/api/messages";
    }

    private double gapsSkipped() {
        return meters.get("ar.ordering.gaps.skipped").counter().count();
    }
}
