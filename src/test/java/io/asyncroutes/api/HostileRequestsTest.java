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
 * README "What happens when…": thousands of malformed and hostile requests (bad JSON, wrong types, huge fields,
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

    /**
     * Issue #14: a seeded soak across every endpoint and the container in front of it: methods,
     * paths with hostile segments, content types and charsets, headers (oversized included), bodies
     * that are binary, truncated, nested, huge or of the wrong type. No 5xx; every error is JSON.
     */
    @Test
    void aSoakAcrossEveryEndpointGetsNoServerErrorAndOnlyJsonErrors() throws Exception {
        Random random = new Random(20261125);
        String base = "http://127.0.0.1:" + port;
        java.net.http.HttpClient client = java.net.http.HttpClient.newBuilder()
                .connectTimeout(java.time.Duration.ofSeconds(5)).build();
        Map<Integer, AtomicInteger> statuses = new ConcurrentHashMap<>();
        Map<String, String> wrong = new ConcurrentHashMap<>();
        ExecutorService clients = Executors.newFixedThreadPool(8);
        for (int i = 0; i < SOAK_REQUESTS; i++) {
            String method = SOAK_METHODS[random.nextInt(SOAK_METHODS.length)];
            String path = soakPath(random);
            String contentType = SOAK_CONTENT_TYPES[random.nextInt(SOAK_CONTENT_TYPES.length)];
            byte[] body = soakBody(random, i);
            boolean bigHeader = random.nextInt(50) == 0;
            String what = method + " " + path + " [" + contentType + "] " + body.length + " bytes" + (bigHeader ? " +big header" : "");
            clients.submit(() -> {
                java.net.http.HttpRequest.Builder request = java.net.http.HttpRequest.newBuilder(java.net.URI.create(base + path))
                        .timeout(java.time.Duration.ofSeconds(30))
                        .method(method, method.equals("GET") || method.equals("HEAD") || method.equals("DELETE")
                                ? java.net.http.HttpRequest.BodyPublishers.noBody()
                                : java.net.http.HttpRequest.BodyPublishers.ofByteArray(body));
                if (!contentType.isEmpty()) {
                    request.header("Content-Type", contentType);
                }
                if (bigHeader) {
                    request.header("X-Padding", "p".repeat(16_000)); // beyond the container's header limit
                }
                try {
                    HttpResponse<String> response = client.send(request.build(), HttpResponse.BodyHandlers.ofString());
                    statuses.computeIfAbsent(response.statusCode(), k -> new AtomicInteger()).incrementAndGet();
                    if (response.statusCode() >= 500) {
                        wrong.put(what, response.statusCode() + " " + response.body());
                    } else if (response.statusCode() >= 400 && !method.equals("HEAD")
                            && !response.body().startsWith("{\"error\":")) {
                        wrong.put(what, response.statusCode() + " not JSON: " + response.body().substring(0, Math.min(120, response.body().length())));
                    }
                } catch (java.io.IOException e) {
                    // the container may close the connection on what it cannot parse: no answer is not a 5xx
                    statuses.computeIfAbsent(-1, k -> new AtomicInteger()).incrementAndGet();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
        }
        clients.shutdown();
        assertThat(clients.awaitTermination(5, TimeUnit.MINUTES)).isTrue();

        System.out.println("soak by status (-1: connection closed without an answer): " + new TreeMap<>(statuses));
        assertThat(wrong).as("5xx answers, or errors that are not JSON").isEmpty();
        assertThat(statuses.getOrDefault(-1, new AtomicInteger()).get()).as("connections dropped without an answer")
                .isLessThan(SOAK_REQUESTS / 100);
        String health = Http.get(base + "/actuator/health").body();
        assertThat(Json.MAPPER.readTree(health).path("status").asText()).isEqualTo("UP");
    }

    private static final int SOAK_REQUESTS = 10_000;
    private static final String[] SOAK_METHODS = {"POST", "POST", "POST", "GET", "GET", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD"};
    private static final String[] SOAK_CONTENT_TYPES = {"application/json", "application/json", "application/json; charset=UTF-8",
        "application/json; charset=ISO-8859-1", "application/json; charset=UTF-16", "text/plain", "application/xml",
        "multipart/form-data; boundary=x", "application/x-www-form-urlencoded", "application/octet-stream", "", "*/*", "json"};
    private static final String[] SOAK_SEGMENTS = {"abc", "a%20b", "%00", "%2e%2e", "..%2f..%2fetc", "%ff%fe", "a%3Bb",
        "t".repeat(200), "%F0%9F%98%80", "x%0d%0aSet-Cookie:%20a=b", "%25", "null", "-1", "%2f"};

    private static String soakPath(Random random) {
        String segment = SOAK_SEGMENTS[random.nextInt(SOAK_SEGMENTS.length)];
        return switch (random.nextInt(9)) {
            case 0, 1 -> "/api/messages";
            case 2 -> "/api/messages/" + segment;
            case 3 -> "/api/threads/" + segment + "/messages?limit=" + SOAK_SEGMENTS[random.nextInt(SOAK_SEGMENTS.length)]
                    + "&afterSeq=" + SOAK_SEGMENTS[random.nextInt(SOAK_SEGMENTS.length)];
            case 4 -> "/api/fetch";
            case 5 -> "/api/chat";
            case 6 -> "/api/openapi.json";
            case 7 -> "/api/" + segment;
            default -> "/api/messages?" + segment + "=" + segment;
        };
    }

    private static byte[] soakBody(Random random, int i) {
        return switch (random.nextInt(6)) {
            case 0 -> { // binary, not UTF-8
                byte[] bytes = new byte[1 + random.nextInt(400)];
                random.nextBytes(bytes);
                yield bytes;
            }
            case 1 -> { // a valid message cut short
                String whole = "{\"threadId\":\"soak-" + i + "\",\"content\":\"hello\",\"seq\":1}";
                yield whole.substring(0, random.nextInt(whole.length())).getBytes(java.nio.charset.StandardCharsets.UTF_8);
            }
            case 2 -> new byte[0];
            default -> hostileBody(random, i).getBytes(java.nio.charset.StandardCharsets.UTF_8);
        };
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
