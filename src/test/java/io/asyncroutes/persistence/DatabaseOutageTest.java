package io.asyncroutes.persistence;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.asyncroutes.support.FaultInjectionTest;
import io.asyncroutes.support.Http;
import java.time.Duration;
import java.util.UUID;
import org.apache.camel.CamelContext;
import org.apache.camel.builder.NotifyBuilder;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.jdbc.core.JdbcTemplate;

/** README "What happens when…": the database stopped under load loses nothing; rows land once it is back. */
class DatabaseOutageTest extends FaultInjectionTest {

    private static final int MESSAGES = 60;

    @LocalServerPort
    int port;
    @Autowired
    CamelContext camel;
    @Autowired
    JdbcTemplate jdbc;

    @Test
    void messagesAcceptedWhileTheDatabaseIsDownAreStoredOnceItReturns() {
        String thread = "outage-" + UUID.randomUUID();
        NotifyBuilder handled = new NotifyBuilder(camel).fromRoute("intake-queue").whenDone(MESSAGES).create();

        stopDatabase();
        try {
            for (int i = 1; i <= MESSAGES; i++) {
                int status = Http.postJson("http://127.0.0.1:" + port + "/api/messages",
                        "{\"id\":\"" + thread + "-" + i + "\",\"threadId\":\"" + thread + "\",\"seq\":" + i
                                + ",\"content\":\"while down\"}").statusCode();
                assertThat(status).isEqualTo(202);
            }
            // handling does not need the database: every message is handled and handed off
            assertThat(handled.matches(30, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
            // the writer holds a batch in its retry loop instead of dropping or dead-lettering it
            await().atMost(Duration.ofSeconds(10)).until(() -> camel.getInflightRepository().size("persist-batch") > 0);
            assertThat(jdbcIsDown()).isTrue();
        } finally {
            restartDatabase();
        }

        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200)).ignoreExceptions().until(() ->
                jdbc.queryForObject("SELECT COUNT(*) FROM ar_message WHERE thread_id = ?", Integer.class, thread) == MESSAGES);
        assertThat(jdbc.queryForObject("SELECT COUNT(DISTINCT id) FROM ar_message WHERE thread_id = ?", Integer.class, thread))
                .isEqualTo(MESSAGES);
    }

    private boolean jdbcIsDown() {
        try {
            jdbc.queryForObject("SELECT 1", Integer.class);
            return false;
        } catch (RuntimeException expected) {
            return true;
        }
    }
}
