package io.asyncroutes.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.asyncroutes.support.EmbeddedProfileTest;
import io.asyncroutes.support.Http;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.jdbc.core.JdbcTemplate;

/**
 * Per-thread order under concurrent, disordered arrival on the embedded default
 * ({@link DisorderedArrivalContract}: 40 threads x 25 messages from 16 concurrent clients, all
 * processed in order); and a predecessor that really never came is skipped after the gap timeout
 * and, when it turns up, is late.
 */
class DisorderedArrivalTest extends EmbeddedProfileTest implements DisorderedArrivalContract {

    @LocalServerPort
    int port;
    @Autowired
    JdbcTemplate jdbc;
    @Autowired
    MeterRegistry meters;

    @Override
    public int port() {
        return port;
    }

    @Override
    public JdbcTemplate jdbc() {
        return jdbc;
    }

    @Override
    public MeterRegistry meters() {
        return meters;
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
}
