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
import java.util.stream.LongStream;
import org.springframework.jdbc.core.JdbcTemplate;

/**
 * SPEC §5's ordering load: T threads x M sequenced messages posted to {@code POST /api/messages} by W
 * concurrent clients, in thread order (each thread's messages back to back, the clients interleaving
 * them) or shuffled; then every row is checked in the real database: all {@code processed}, each
 * thread stored in seq order.
 */
public final class DisorderedLoad {

    private DisorderedLoad() {
    }

    /** Posts the load, waits for every row and checks it; returns the status counts. */
    public static Map<String, Long> run(String apiBase, Map<String, String> headers, JdbcTemplate jdbc, String run,
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
        ExecutorService pool = Executors.newFixedThreadPool(clients);
        try {
            List<Future<HttpResponse<String>>> posts = new ArrayList<>();
            for (String body : bodies) {
                posts.add(pool.submit(() -> Http.send("POST", apiBase + "/api/messages", "application/json", body, headers)));
            }
            for (Future<HttpResponse<String>> post : posts) {
                HttpResponse<String> response = post.get();
                assertThat(response.statusCode()).as(response.body()).isEqualTo(202);
            }
        } finally {
            pool.shutdown();
        }
        int total = threads * perThread;
        await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(250)).until(() -> jdbc.queryForObject(
                "SELECT count(*) FROM ar_message WHERE thread_id LIKE ?", Integer.class, run + "-%") >= total);
        Map<String, Long> statuses = new TreeMap<>();
        jdbc.queryForList("SELECT status, count(*) AS n FROM ar_message WHERE thread_id LIKE ? GROUP BY status", run + "-%")
                .forEach(row -> statuses.put((String) row.get("status"), ((Number) row.get("n")).longValue()));
        List<Long> expected = LongStream.rangeClosed(1, perThread).boxed().toList();
        for (int t = 0; t < threads; t++) {
            assertThat(jdbc.queryForList("SELECT seq FROM ar_message WHERE thread_id = ? ORDER BY stored_order",
                    Long.class, run + "-" + t)).as("stored order of thread " + t).containsExactlyElementsOf(expected);
        }
        return statuses;
    }
}
