package io.asyncroutes.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.asyncroutes.support.AppProcess;
import io.asyncroutes.support.EmbeddedProfileTest;
import io.asyncroutes.support.Http;
import java.io.File;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * README "What happens when…": kill -9 under load, then restart. The application runs as its own process (embedded
 * default), 8 clients post shuffled sequenced messages, the process is killed with SIGKILL
 * mid-stream, then started again on the same data directory. Every message the API accepted
 * (answered 202) is in the database exactly once, and none of them as a duplicate.
 */
class KillNineTest {

    @Test
    void everyAcceptedMessageIsStoredExactlyOnceAfterAKillAndARestart() throws Exception {
        Path dataDir = EmbeddedProfileTest.tempDir("ar-kill-");
        int httpPort = EmbeddedProfileTest.freePort();
        int redisPort = EmbeddedProfileTest.freePort();
        Set<String> accepted = ConcurrentHashMap.newKeySet();
        AtomicInteger next = new AtomicInteger();
        AtomicBoolean posting = new AtomicBoolean(true);
        AtomicInteger refused = new AtomicInteger();
        String api = "http://127.0.0.1:" + httpPort + "/api/messages";

        // 80 threads x 25 messages with seq, shuffled: disordered arrival while the process dies
        List<int[]> messages = new ArrayList<>();
        for (int t = 0; t < 80; t++) {
            for (int seq = 1; seq <= 25; seq++) {
                messages.add(new int[] {t, seq});
            }
        }
        java.util.Collections.shuffle(messages, new java.util.Random(9));
        Process first = start(dataDir, httpPort, redisPort, "first");
        ExecutorService clients = Executors.newFixedThreadPool(8);
        try {
            awaitHealthy(httpPort);
            for (int c = 0; c < 8; c++) {
                clients.submit(() -> {
                    while (posting.get()) {
                        int n = next.getAndIncrement();
                        if (n >= messages.size()) {
                            return;
                        }
                        int[] m = messages.get(n);
                        String id = "kill-" + m[0] + "-" + m[1];
                        try {
                            int status = Http.postJson(api, "{\"id\":\"" + id + "\",\"threadId\":\"kill-" + m[0]
                                    + "\",\"seq\":" + m[1] + ",\"content\":\"load\"}").statusCode();
                            if (status == 202) {
                                accepted.add(id);
                            } else {
                                refused.incrementAndGet();
                            }
                        } catch (RuntimeException noAnswer) {
                            // a connection reset by the kill, or a kept-alive connection the server had
                            // just closed: not accepted, so not expected; the client goes on
                            refused.incrementAndGet();
                        }
                    }
                });
            }
            await().atMost(Duration.ofSeconds(60)).until(() -> accepted.size() >= 300 || next.get() >= messages.size());
            assertThat(accepted.size()).as("accepted before the kill (%d refused)", refused.get()).isGreaterThanOrEqualTo(300);
        } finally {
            first.destroyForcibly(); // SIGKILL: no shutdown hook, no draining
            first.waitFor(30, TimeUnit.SECONDS);
            posting.set(false);
            clients.shutdown();
            clients.awaitTermination(30, TimeUnit.SECONDS);
        }
        int acceptedBeforeKill = accepted.size();

        Process second = start(dataDir, httpPort, redisPort, "second");
        try {
            awaitHealthy(httpPort);
            // the redelivered backlog is worked off: every accepted id can be read back
            Set<String> missing = ConcurrentHashMap.newKeySet();
            missing.addAll(accepted);
            try {
                await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(500)).until(() -> {
                    missing.removeIf(id -> Http.get(api + "/" + id).statusCode() == 200);
                    return missing.isEmpty();
                });
            } catch (org.awaitility.core.ConditionTimeoutException e) {
                throw new AssertionError(missing.size() + " of " + accepted.size() + " accepted messages not stored: "
                        + missing.stream().sorted().limit(20).toList(), e);
            }
        } finally {
            second.destroy(); // SIGTERM: graceful, so the H2 file can be read below
            second.waitFor(60, TimeUnit.SECONDS);
        }

        Map<String, String> statusById = new java.util.HashMap<>();
        List<String> stored = storedIds(dataDir, statusById);
        Map<String, Long> statuses = new java.util.TreeMap<>();
        accepted.forEach(id -> statuses.merge(statusById.get(id), 1L, Long::sum));
        System.out.printf("kill -9: %d messages accepted before the kill, %d rows stored, statuses of the accepted %s%n",
                acceptedBeforeKill, stored.size(), statuses);
        assertThat(stored).doesNotHaveDuplicates();
        assertThat(stored).containsAll(accepted);
        // every accepted message was handled: none taken for a duplicate of itself after the restart
        assertThat(statuses).doesNotContainKey("duplicate");
    }

    private static Process start(Path dataDir, int httpPort, int redisPort, String name) throws Exception {
        return AppProcess.start(List.of("--app.data-dir=" + dataDir, "--server.port=" + httpPort,
                "--spring.data.redis.port=" + redisPort, "--logging.level.root=WARN"),
                new File(dataDir.toFile(), name + ".log"));
    }

    private static void awaitHealthy(int httpPort) {
        AppProcess.awaitHealthy(httpPort);
    }

    private static List<String> storedIds(Path dataDir, Map<String, String> statusById) throws Exception {
        String url = "jdbc:h2:file:" + dataDir.resolve("h2/async-routes") + ";MODE=PostgreSQL;DATABASE_TO_LOWER=TRUE";
        try (Connection c = DriverManager.getConnection(url, "sa", "");
             ResultSet rs = c.createStatement().executeQuery("SELECT id, status FROM ar_message")) {
            List<String> ids = new ArrayList<>();
            while (rs.next()) {
                ids.add(rs.getString(1));
                statusById.put(rs.getString(1), rs.getString(2));
            }
            return ids;
        }
    }
}
