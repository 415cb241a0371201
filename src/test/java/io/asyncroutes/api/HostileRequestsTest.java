package io.asyncroutes.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.asyncroutes.support.EmbeddedProfileTest;
import io.asyncroutes.support.Http;
import io.asyncroutes.support.Json;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.springframework.boot.test.web.server.LocalServerPort;

/**
 * SPEC §6: thousands of malformed and hostile requests (bad JSON, wrong types, huge fields,
 * hostile ids, SSRF URLs, random bytes) from 8 concurrent clients get only 4xx JSON errors, never
 * a 5xx, and the service is healthy afterwards. Seeded, so a failure can be replayed.
 */
class HostileRequestsTest extends EmbeddedProfileTest {

    private static final int REQUESTS = 2_000;

    @LocalServerPort
    int port;

    @Test
    void onlyClientErrorsAndTheServiceStaysHealthy() throws Exception {
        Random random = new Random(20261124);
        List<String> bodies = new java.util.ArrayList<>();
        for (int i = 0; i < REQUESTS; i++) {
            bodies.add(hostileBody(random, i));
        }
        String[] paths = {"/api/messages", "/api/fetch", "/api/chat"};
        Map<Integer, AtomicInteger> statuses = new ConcurrentHashMap<>();
        Map<String, String> serverErrors = new ConcurrentHashMap<>();
        ExecutorService clients = Executors.newFixedThreadPool(8);
        for (int i = 0; i < REQUESTS; i++) {
            String body = bodies.get(i);
            String path = paths[i % paths.length];
            clients.submit(() -> {
                HttpResponse<String> response = Http.postJson("http://127.0.0.1:" + port + path, body);
                statuses.computeIfAbsent(response.statusCode(), k -> new AtomicInteger()).incrementAndGet();
                if (response.statusCode() >= 500) {
                    serverErrors.put(path + " " + body.substring(0, Math.min(200, body.length())), response.body());
                } else if (response.statusCode() >= 400) {
                    assertThat(response.body()).startsWith("{\"error\":");
                }
            });
        }
        clients.shutdown();
        assertThat(clients.awaitTermination(5, TimeUnit.MINUTES)).isTrue();

        System.out.println("hostile requests by status: " + new TreeMap<>(statuses));
        assertThat(serverErrors).as("requests answered with a 5xx").isEmpty();
        assertThat(statuses.keySet()).allSatisfy(status -> assertThat(status).isBetween(200, 499));
        assertThat(statuses.entrySet().stream().filter(e -> e.getKey() >= 400).mapToInt(e -> e.getValue().get()).sum())
                .isGreaterThan(REQUESTS * 9 / 10);
        String health = Http.get("http://127.0.0.1:" + port + "/actuator/health").body();
        assertThat(Json.MAPPER.readTree(health).path("status").asText()).isEqualTo("UP");
    }

    private static String hostileBody(Random random, int i) {
        return switch (i % 12) {
            case 0 -> randomBytes(random, 1 + random.nextInt(300));
            case 1 -> "{\"threadId\":" + hostileValue(random) + ",\"content\":" + hostileValue(random) + "}";
            case 2 -> "{\"threadId\":\"t\",\"content\":\"c\",\"seq\":" + hostileValue(random) + "}";
            case 3 -> "{\"threadId\":\"" + hostileId(random) + "\",\"content\":\"c\"}";
            case 4 -> "{\"id\":\"" + hostileId(random) + "\",\"threadId\":\"t\",\"content\":\"c\"}";
            case 5 -> "{\"threadId\":\"t\",\"content\":\"c\",\"fetch\":[\"" + hostileUrl(random) + "\"]}";
            case 6 -> "{\"urls\":[\"" + hostileUrl(random) + "\"," + hostileValue(random) + "]}";
            case 7 -> "{\"threadId\":\"t\",\"content\":\"" + "x".repeat(60_000 + random.nextInt(20_000)) + "\"}";
            case 8 -> "[".repeat(1 + random.nextInt(5000));
            case 9 -> "{\"messages\":[{\"role\":" + hostileValue(random) + ",\"content\":" + hostileValue(random) + "}]}";
            case 10 -> "{\"threadId\":\"t\",\"content\":\"c\",\"metadata\":" + nested(random.nextInt(3000)) + "}";
            default -> "{\"threadId\":\"t\",\"content\":\"c\"," + "\"k\":1,".repeat(random.nextInt(50)) + "\"x\":}";
        };
    }

    private static String hostileValue(Random random) {
        String[] values = {"null", "true", "-1", "0", "1e309", "99999999999999999999999", "[]", "{}", "\"\"",
            "\"\\u0000\"", "\"\\ud800\"", "\"<script>\"", "\"' OR 1=1 --\"", "{\"$gt\":\"\"}", "1.5"};
        return values[random.nextInt(values.length)];
    }

    private static String hostileId(Random random) {
        String[] ids = {"../../etc/passwd", "a b", "ar:*", "x\\r\\nSET k v", "%00", "t".repeat(129), "😀", "*", "", "a;DROP TABLE ar_message"};
        return ids[random.nextInt(ids.length)];
    }

    private static String hostileUrl(Random random) {
        String[] urls = {"http://127.0.0.1/", "http://169.254.169.254/latest/meta-data/", "file:///etc/passwd",
            "gopher://x", "http://[::1]/", "http://10.0.0.1/", "http://user:pw@example.com/", "javascript:alert(1)",
            "http://0x7f000001/", "http://2130706433/"};
        return urls[random.nextInt(urls.length)];
    }

    private static String nested(int depth) {
        return "{\"a\":".repeat(depth) + "1" + "}".repeat(depth);
    }

    private static String randomBytes(Random random, int length) {
        StringBuilder text = new StringBuilder(length);
        for (int i = 0; i < length; i++) {
            text.append((char) (random.nextInt(0x7e - 0x20) + 0x20));
        }
        return text.toString();
    }
}
