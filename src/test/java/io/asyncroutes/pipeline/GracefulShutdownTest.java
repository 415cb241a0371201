package io.asyncroutes.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.asyncroutes.AsyncRoutesApplication;
import io.asyncroutes.support.EmbeddedProfileTest;
import io.asyncroutes.support.Http;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * README "What happens when…": the application is stopped while messages are still pouring through it, then
 * started again on the same data directory. Every message the API accepted ends up in the
 * database exactly once: in-flight work is drained at shutdown, queued work is picked up after
 * the restart from the persistent broker journal.
 */
class GracefulShutdownTest {

    private static final int MESSAGES = 400;

    @Test
    void stopUnderLoadThenRestartStoresEveryAcceptedMessageExactlyOnce() throws Exception {
        Path dataDir = EmbeddedProfileTest.tempDir("ar-restart-");
        String[] args = {
            "--app.data-dir=" + dataDir,
            "--spring.data.redis.port=" + EmbeddedProfileTest.freePort(),
            "--server.port=0",
            "--spring.artemis.embedded.server-id=11",
        };
        Set<String> accepted = ConcurrentHashMap.newKeySet();

        ConfigurableApplicationContext first = new SpringApplicationBuilder(AsyncRoutesApplication.class).run(args);
        String api = "http://127.0.0.1:" + first.getEnvironment().getProperty("local.server.port") + "/api/messages";
        ExecutorService clients = Executors.newFixedThreadPool(8);
        for (int i = 0; i < MESSAGES; i++) {
            String thread = "restart-" + (i % 20);
            String id = thread + "-" + i;
            clients.submit(() -> {
                HttpResponse<String> response = Http.postJson(api,
                        "{\"id\":\"" + id + "\",\"threadId\":\"" + thread + "\",\"content\":\"load\"}");
                if (response.statusCode() == 202) {
                    accepted.add(id);
                }
            });
        }
        clients.shutdown();
        assertThat(clients.awaitTermination(60, TimeUnit.SECONDS)).isTrue();
        first.close(); // graceful: consumers stop, in-flight exchanges finish, then the broker stops

        String url = "jdbc:h2:file:" + dataDir.resolve("h2/async-routes") + ";MODE=PostgreSQL;DATABASE_TO_LOWER=TRUE";
        List<String> storedBeforeRestart = storedIds(url);
        System.out.printf("graceful stop: %d of %d accepted messages stored before the restart%n", storedBeforeRestart.size(), MESSAGES);
        assertThat(accepted).hasSize(MESSAGES);
        assertThat(storedBeforeRestart).doesNotHaveDuplicates().isSubsetOf(accepted);

        ConfigurableApplicationContext second = new SpringApplicationBuilder(AsyncRoutesApplication.class).run(args);
        try {
            var jdbc = second.getBean(org.springframework.jdbc.core.JdbcTemplate.class);
            try {
                await().atMost(Duration.ofSeconds(60)).until(() ->
                        jdbc.queryForObject("SELECT COUNT(*) FROM ar_message", Integer.class) >= MESSAGES);
            } catch (org.awaitility.core.ConditionTimeoutException e) {
                // failed once (2026-12-06, first run of a two-class run), then passed 15 times: say what is missing next time
                Set<String> missing = new java.util.TreeSet<>(accepted);
                missing.removeAll(jdbc.queryForList("SELECT id FROM ar_message", String.class));
                System.out.printf("after the restart %d accepted messages not stored within 60 s (%d before the restart): %s%n",
                        missing.size(), storedBeforeRestart.size(), missing);
                throw e;
            }
            List<String> stored = jdbc.queryForList("SELECT id FROM ar_message", String.class);
            assertThat(stored).doesNotHaveDuplicates().containsExactlyInAnyOrderElementsOf(accepted);
        } finally {
            second.close();
        }
    }

    private static List<String> storedIds(String url) throws Exception {
        try (Connection c = DriverManager.getConnection(url, "sa", "");
             ResultSet rs = c.createStatement().executeQuery("SELECT id FROM ar_message")) {
            java.util.ArrayList<String> ids = new java.util.ArrayList<>();
            while (rs.next()) {
                ids.add(rs.getString(1));
            }
            return ids;
        }
    }
}
