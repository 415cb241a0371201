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
 * (answered 202) is in the database exactly once, and none of them as a duplicate. The same with
 * SIGTERM, the way a service manager stops it: the graceful shutdown drains what is in flight with
 * its database and Redis still there (until 2026-12-06 H2's and embedded-redis's own JVM shutdown
 * hooks closed both in the middle of it, so the last batch failed and its acknowledgements with it).
 */
class KillNineTest {

    /** What a graceful stop under load must not log: the database, Redis or the broker gone while draining. */
    private static final List<String> NOT_WHILE_DRAINING = List.of("Database is already closed",
            "Connection is closed", "Could not acknowledge", "Connection refused", " ERROR ");

    @Test
    void everyAcceptedMessageIsStoredExactlyOnceAfterAKillAndARestart() throws Exception {
        stopUnderLoadThenRestart("kill", true);
    }

    @Test
    void aSigtermUnderLoadDrainsWithItsDatabaseAndRedisAndLosesNothing() throws Exception {
        File log = stopUnderLoadThenRestart("term", false);
        List<String> lines = java.nio.file.Files.readAllLines(log.toPath());
        assertThat(lines).as("the first process's log (%s)", log)
                .noneMatch(line -> NOT_WHILE_DRAINING.stream().anyMatch(line::contains));
    }

    /** Posts under load, stops the process (SIGKILL or SIGTERM), restarts, checks every accepted message; the first process's log. */
    private static File stopUnderLoadThenRestart(String name, boolean kill) throws Exception {
        Path dataDir = EmbeddedProfileTest.tempDir("ar-" + name + "-");
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
                        String id = name + "-" + m[0] + "-" + m[1];
                        try {
                            int status = Http.postJson(api, "{\"id\":\"" + id + "\",\"threadId\":\"" + name + "-" + m[0]
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
            if (kill) {
                first.destroyForcibly(); // SIGKILL: no shutdown hook, no draining
            } else {
                first.destroy(); // SIGTERM: the graceful shutdown, clients still posting
            }
            assertThat(first.waitFor(60, TimeUnit.SECONDS)).as("the first process ended").isTrue();
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
                        + missing.stream().sorted().limit(20).toList() + "; the first process's log:\n"
                        + logLines(new File(dataDir.toFile(), "first.log"), missing), e);
            }
        } finally {
            second.destroy(); // SIGTERM: graceful, so the H2 file can be read below
            second.waitFor(60, TimeUnit.SECONDS);
        }

        Map<String, String> statusById = new java.util.HashMap<>();
        List<String> stored = storedIds(dataDir, statusById);
        Map<String, Long> statuses = new java.util.TreeMap<>();
        accepted.forEach(id -> statuses.merge(statusById.get(id), 1L, Long::sum));
        System.out.printf("%s: %d messages accepted before the stop, %d rows stored, statuses of the accepted %s%n",
                kill ? "kill -9" : "SIGTERM", acceptedBeforeKill, stored.size(), statuses);
        assertThat(stored).doesNotHaveDuplicates();
        assertThat(stored).containsAll(accepted);
        // every accepted message was handled: none taken for a duplicate of itself after the restart
        assertThat(statuses).doesNotContainKey("duplicate");
        return new File(dataDir.toFile(), "first.log");
    }

    /** The log's warnings and errors, and every line that names a missing message. */
    private static String logLines(File log, Set<String> missing) throws java.io.IOException {
        return String.join("\n", java.nio.file.Files.readAllLines(log.toPath()).stream()
                .filter(line -> line.contains(" WARN ") || line.contains(" ERROR ") || line.contains("Exception")
                        || missing.stream().anyMatch(line::contains))
                .limit(200).toList());
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
