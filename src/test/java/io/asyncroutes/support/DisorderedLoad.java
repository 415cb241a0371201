package io.asyncroutes.support;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.springframework.jdbc.core.JdbcTemplate;

/**
 * The ordering load (README "Benchmarks", "Ordering"): T threads x M sequenced messages posted to {@code POST /api/messages} by W
 * concurrent clients, in thread order (each thread's messages back to back, the clients interleaving
 * them) or shuffled; then every row is checked in the real database: all {@code processed}, each
 * thread stored in seq order.
 */
public final class DisorderedLoad {

    private static final int WARM_UP = 2000;

    private DisorderedLoad() {
    }

    /** What a run produced: status counts, and how long the posting took. */
    public record Outcome(Map<String, Long> statuses, long postingMillis) {
    }

    /**
     * Posts the load, waits for every row and checks what holds whatever the timing: every message
     * stored once, none taken for a duplicate, and per thread the messages handled in turn
     * ({@code processed}) stored in seq order; a late one is stored after its successors.
     */
    public static Outcome run(String apiBase, Map<String, String> headers, JdbcTemplate jdbc, String run,
                                        int threads, int perThread, int clients, boolean shuffled) throws Exception {
        List<String> bodies = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            for (int seq = 1; seq <= perThread; seq++) {
                bodies.add("{\"id\":\"" + run + "-" + t + "-" + seq + "\",\"threadId\":\"" + run + "-" + t
                        + "\",\"seq\":" + seq + ",\"content\":\"m" + seq + "\"}");
            }
        }
        if (shuffled) {
            Collections.shuffle(bodies, new Random(run.hashCode()));
        }
        long postingStarted = 0;
        long postingMillis;
        ExecutorService pool = Executors.newFixedThreadPool(clients);
        try {
            // a warm service, as in production: the JIT has compiled the request and handling paths
            // (on 2 cores a cold JVM spends a third of its CPU compiling)
            List<Future<HttpResponse<String>>> warmUp = new ArrayList<>();
            for (int i = 0; i < WARM_UP; i++) {
                String body = "{\"threadId\":\"" + run + "-warm-" + (i % 200) + "\",\"content\":\"warm-up\"}";
                warmUp.add(pool.submit(() -> Http.send("POST", apiBase + "/api/messages", "application/json", body, headers)));
            }
            for (Future<HttpResponse<String>> post : warmUp) {
                assertThat(post.get().statusCode()).isEqualTo(202);
            }
            await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(250)).until(() -> jdbc.queryForObject(
                    "SELECT count(*) FROM ar_message WHERE thread_id LIKE ?", Integer.class, run + "-warm-%") >= WARM_UP);
            postingStarted = System.nanoTime();
            List<Future<HttpResponse<String>>> posts = new ArrayList<>();
            for (String body : bodies) {
                posts.add(pool.submit(() -> Http.send("POST", apiBase + "/api/messages", "application/json", body, headers)));
            }
            for (Future<HttpResponse<String>> post : posts) {
                HttpResponse<String> response = post.get();
                assertThat(response.statusCode()).as(response.body()).isEqualTo(202);
            }
            postingMillis = (System.nanoTime() - postingStarted) / 1_000_000;
            System.out.printf("%s: %d messages posted by %d clients in %d ms%n", run, bodies.size(), clients, postingMillis);
        } finally {
            pool.shutdown();
        }
        int total = threads * perThread;
        await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(250)).until(() -> jdbc.queryForObject(
                "SELECT count(*) FROM ar_message WHERE thread_id LIKE ? AND seq IS NOT NULL", Integer.class, run + "-%") >= total);
        Map<String, Long> statuses = new TreeMap<>();
        jdbc.queryForList("SELECT status, count(*) AS n FROM ar_message WHERE thread_id LIKE ? AND seq IS NOT NULL GROUP BY status", run + "-%")
                .forEach(row -> statuses.put((String) row.get("status"), ((Number) row.get("n")).longValue()));
        assertThat(statuses.keySet()).as("statuses").isSubsetOf("processed", "late");
        assertThat(statuses.values().stream().mapToLong(Long::longValue).sum()).isEqualTo(total);
        for (int t = 0; t < threads; t++) {
            List<Long> inOrder = jdbc.queryForList("SELECT seq FROM ar_message WHERE thread_id = ? AND status = 'processed'"
                    + " ORDER BY stored_order", Long.class, run + "-" + t);
            assertThat(inOrder).as("stored order of thread " + t).isSorted();
        }
        return new Outcome(statuses, postingMillis);
    }

    /** The default gap timeout (app.ordering.gap-timeout), unchanged in these tests. */
    public static final long GAP_TIMEOUT_MILLIS = 2000;

    /**
     * The strict case: when the whole posting took less than the gap timeout, every predecessor
     * arrived within it of its successor, so nothing may be skipped and everything is {@code processed}.
     * When posting itself took longer, a predecessor may truly have come later than that; it is then
     * {@code late}, never lost or taken for a duplicate ({@link #run} checked that).
     */
    public static void assertNoGapSkippedWhenPostedWithinTheGapTimeout(Outcome outcome, double gapsSkipped, int total) {
        if (outcome.postingMillis() < GAP_TIMEOUT_MILLIS) {
            assertThat(outcome.statuses()).containsExactly(Map.entry("processed", (long) total));
            assertThat(gapsSkipped).as("gaps skipped").isZero();
        } else {
            System.out.printf("posting took %d ms, more than the gap timeout: %s, %.0f gaps skipped%n",
                    outcome.postingMillis(), outcome.statuses(), gapsSkipped);
        }
    }
}
