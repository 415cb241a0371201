package io.asyncroutes.fetch;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A local upstream for the fetch tests and the fan-out benchmark (JDK HTTP server, loopback only).
 * Delays are served without holding a thread: the response is completed later by a scheduler,
 * so a thousand slow requests can be in flight at once. It counts requests in flight and records
 * each request's arrival per key.
 *
 * <p>{@code GET /json?id=X&delay=MS&status=CODE&bytes=N&retryAfter=S&fail=K&failStatus=CODE&text=1}:
 * answers {@code {"id": X}} (padded to N bytes) with the status after the delay; the first K requests
 * of id X answer {@code failStatus} (with Retry-After S if given) instead.
 */
public final class UpstreamServer implements AutoCloseable {

    static {
        // the JDK server keeps at most 200 idle keep-alive connections by default and closes the
        // rest, which a 1000-wide fan-out would see as dropped connections
        System.setProperty("sun.net.httpserver.maxIdleConnections", "4096");
        // without TCP_NODELAY each response waits ~40 ms for a delayed ACK (headers and body are
        // separate writes): that would be measured as fan-out overhead
        System.setProperty("sun.net.httpserver.nodelay", "true");
    }

    private final HttpServer server;
    private final ScheduledExecutorService timer = Executors.newScheduledThreadPool(2);
    private final AtomicInteger inFlight = new AtomicInteger();
    private final AtomicInteger maxInFlight = new AtomicInteger();
    private final AtomicInteger requests = new AtomicInteger();
    private final Map<String, List<Long>> arrivals = new ConcurrentHashMap<>();

    public UpstreamServer() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 4096);
        server.setExecutor(Executors.newFixedThreadPool(4));
        server.createContext("/", this::handle);
        server.start();
    }

    public int port() {
        return server.getAddress().getPort();
    }

    /** http://localhost:PORT/json?... : "localhost" is the name the tests allow-list. */
    public String url(String query) {
        return "http://localhost:" + port() + "/json?" + query;
    }

    public int maxInFlight() {
        return maxInFlight.get();
    }

    public int requests() {
        return requests.get();
    }

    public List<Long> arrivals(String id) {
        return arrivals.getOrDefault(id, List.of());
    }

    public void resetCounters() {
        maxInFlight.set(0);
        requests.set(0);
        arrivals.clear();
    }

    private void handle(HttpExchange exchange) {
        requests.incrementAndGet();
        int now = inFlight.incrementAndGet();
        maxInFlight.accumulateAndGet(now, Math::max);
        Map<String, String> q = query(exchange.getRequestURI());
        String id = q.getOrDefault("id", "x");
        List<Long> seen = arrivals.computeIfAbsent(id, k -> new CopyOnWriteArrayList<>());
        seen.add(System.nanoTime());
        int status = Integer.parseInt(q.getOrDefault("status", "200"));
        String retryAfter = null;
        if (seen.size() <= Integer.parseInt(q.getOrDefault("fail", "0"))) {
            status = Integer.parseInt(q.getOrDefault("failStatus", "503"));
            retryAfter = q.get("retryAfter");
        }
        String body = q.containsKey("text") ? "plain text, not JSON" : json(id, Integer.parseInt(q.getOrDefault("bytes", "0")));
        long delay = Long.parseLong(q.getOrDefault("delay", "0"));
        int finalStatus = status;
        String finalRetryAfter = retryAfter;
        if (delay <= 0) {
            respond(exchange, finalStatus, finalRetryAfter, body);
        } else {
            timer.schedule(() -> respond(exchange, finalStatus, finalRetryAfter, body), delay, TimeUnit.MILLISECONDS);
        }
    }

    private void respond(HttpExchange exchange, int status, String retryAfter, String body) {
        try (exchange) {
            byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().set("Content-Type", body.startsWith("{") ? "application/json" : "text/plain");
            if (retryAfter != null) {
                exchange.getResponseHeaders().set("Retry-After", retryAfter);
            }
            exchange.sendResponseHeaders(status, bytes.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(bytes);
            }
        } catch (IOException e) {
            // the client went away (deadline, timeout): nothing to do
        } finally {
            inFlight.decrementAndGet();
        }
    }

    private static String json(String id, int bytes) {
        String base = "{\"id\":\"" + id + "\"";
        if (bytes > base.length() + 12) {
            return base + ",\"pad\":\"" + "p".repeat(bytes - base.length() - 11) + "\"}";
        }
        return base + "}";
    }

    private static Map<String, String> query(URI uri) {
        Map<String, String> map = new HashMap<>();
        String raw = uri.getRawQuery();
        if (raw != null) {
            for (String pair : raw.split("&")) {
                int eq = pair.indexOf('=');
                if (eq > 0) {
                    map.put(pair.substring(0, eq), pair.substring(eq + 1));
                }
            }
        }
        return map;
    }

    @Override
    public void close() {
        server.stop(0);
        timer.shutdownNow();
        ((java.util.concurrent.ExecutorService) server.getExecutor()).shutdownNow();
    }
}
