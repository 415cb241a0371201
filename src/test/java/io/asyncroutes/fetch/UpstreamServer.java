package io.asyncroutes.fetch;

import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A local upstream for the fetch tests and the fan-out benchmark: a Vert.x HTTP server on
 * loopback (Vert.x comes with the test classpath's camel-platform-http-main). Delays are served by
 * event-loop timers, so a thousand slow requests can be in flight at once without a thread each,
 * and a request costs the server tens of microseconds, so the benchmark measures the route, not
 * the upstream. It counts requests in flight and records each request's arrival per id.
 *
 * <p>{@code GET /json?id=X&delay=MS&status=CODE&bytes=N&retryAfter=S&fail=K&failStatus=CODE&text=1&chunked=1&redirect=URL&drip=MS}:
 * answers {@code {"id": X}} (padded to N bytes) with the status after the delay; the first K requests
 * of id X answer {@code failStatus} (with Retry-After S if given) instead; {@code chunked=1} sends
 * the body without a Content-Length; {@code redirect=URL} answers 302 with that Location;
 * {@code drip=MS} sends one byte every MS ms and never ends.
 *
 * <p>It also speaks the API of the seed's Python upstream ({@code ../shared/peer-python/upstream.py}),
 * so the Python {@code fetch_all} benchmark can run against this same server:
 * {@code GET /item/N?delay_ms=D} answers {@code {"n": N, "delay_ms": D}} after D ms;
 * {@code GET /stats} answers the counters ({@code max_inflight}, ...), {@code GET /stats/reset} zeroes them.
 */
public final class UpstreamServer implements AutoCloseable {

    private final Vertx vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(2));
    private final HttpServer server;
    private final AtomicInteger inFlight = new AtomicInteger();
    private final AtomicInteger maxInFlight = new AtomicInteger();
    private final AtomicInteger requests = new AtomicInteger();
    private final Map<String, List<Long>> arrivals = new ConcurrentHashMap<>();

    public UpstreamServer() throws Exception {
        server = vertx.createHttpServer(new HttpServerOptions()
                        .setHost("127.0.0.1").setPort(0).setTcpNoDelay(true).setAcceptBacklog(4096))
                .requestHandler(this::handle);
        server.listen().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    public int port() {
        return server.actualPort();
    }

    /** http://localhost:PORT/json?... : "localhost" is the name the tests allow-list. */
    public String url(String query) {
        return "http://localhost:" + port() + "/json?" + query;
    }

    public int inFlight() {
        return inFlight.get();
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

    private void handle(HttpServerRequest request) {
        String path = request.path();
        if (path.startsWith("/stats")) {
            if (path.equals("/stats/reset")) {
                resetCounters();
            }
            request.response().putHeader("Content-Type", "application/json").end("{\"requests\":" + requests.get()
                    + ",\"inflight\":" + inFlight.get() + ",\"max_inflight\":" + maxInFlight.get() + "}");
            return;
        }
        if (path.startsWith("/item/")) {
            item(request, path.substring("/item/".length()));
            return;
        }
        requests.incrementAndGet();
        int now = inFlight.incrementAndGet();
        maxInFlight.accumulateAndGet(now, Math::max);
        String id = param(request, "id", "x");
        List<Long> seen = arrivals.computeIfAbsent(id, k -> new CopyOnWriteArrayList<>());
        seen.add(System.nanoTime());
        int status = Integer.parseInt(param(request, "status", "200"));
        String retryAfter = null;
        if (seen.size() <= Integer.parseInt(param(request, "fail", "0"))) {
            status = Integer.parseInt(param(request, "failStatus", "503"));
            retryAfter = request.getParam("retryAfter");
        }
        String body = request.getParam("text") != null ? "plain text, not JSON"
                : json(id, Integer.parseInt(param(request, "bytes", "0")));
        long delay = Long.parseLong(param(request, "delay", "0"));
        int finalStatus = status;
        String finalRetryAfter = retryAfter;
        if (delay <= 0) {
            respond(request, finalStatus, finalRetryAfter, body);
        } else {
            vertx.setTimer(delay, t -> respond(request, finalStatus, finalRetryAfter, body));
        }
    }

    /** The Python upstream's {@code /item/N?delay_ms=D}. */
    private void item(HttpServerRequest request, String n) {
        requests.incrementAndGet();
        maxInFlight.accumulateAndGet(inFlight.incrementAndGet(), Math::max);
        long delay = Long.parseLong(param(request, "delay_ms", "0"));
        String body = "{\"n\":" + Integer.parseInt(n) + ",\"delay_ms\":" + delay + "}";
        if (delay <= 0) {
            respond(request, 200, null, body);
        } else {
            vertx.setTimer(delay, t -> respond(request, 200, null, body));
        }
    }

    private void respond(HttpServerRequest request, int status, String retryAfter, String body) {
        inFlight.decrementAndGet();
        HttpServerResponse response = request.response().setStatusCode(status)
                .putHeader("Content-Type", body.startsWith("{") ? "application/json" : "text/plain");
        if (retryAfter != null) {
            response.putHeader("Retry-After", retryAfter);
        }
        String redirect = request.getParam("redirect");
        if (redirect != null) {
            response.setStatusCode(302).putHeader("Location", redirect);
        }
        if (response.closed()) {
            return;
        }
        String drip = request.getParam("drip");
        if (drip != null) {
            // a byte of whitespace every `drip` ms for ever: every read is quick, the answer never ends
            response.setChunked(true).write("{");
            vertx.setPeriodic(Long.parseLong(drip), timer -> {
                if (response.closed() || response.ended()) {
                    vertx.cancelTimer(timer);
                } else {
                    response.write(" ");
                }
            });
            return;
        }
        if (request.getParam("chunked") != null) {
            // no Content-Length: the client only learns the size by reading
            response.setChunked(true);
            int half = body.length() / 2;
            response.write(body.substring(0, half));
            response.end(body.substring(half));
        } else {
            response.end(body);
        }
    }

    private static String param(HttpServerRequest request, String name, String fallback) {
        String value = request.getParam(name);
        return value == null ? fallback : value;
    }

    private static String json(String id, int bytes) {
        String base = "{\"id\":\"" + id + "\"";
        if (bytes > base.length() + 12) {
            return base + ",\"pad\":\"" + "p".repeat(bytes - base.length() - 11) + "\"}";
        }
        return base + "}";
    }

    @Override
    public void close() {
        try {
            vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        } catch (Exception e) {
            // shutting down anyway
        }
    }
}
