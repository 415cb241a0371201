package io.asyncroutes.fetch;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import io.asyncroutes.message.ExchangeProperties;
import io.asyncroutes.settings.AppSettings;
import io.asyncroutes.support.Json;
import io.asyncroutes.support.SharedRouteConfigurations;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.camel.AsyncCallback;
import org.apache.camel.Exchange;
import org.apache.camel.support.AsyncProcessorSupport;
import org.apache.hc.client5.http.config.ConnectionConfig;
import org.apache.hc.client5.http.config.RequestConfig;
import org.apache.hc.client5.http.config.TlsConfig;
import org.apache.hc.client5.http.impl.async.CloseableHttpAsyncClient;
import org.apache.hc.client5.http.impl.async.HttpAsyncClients;
import org.apache.hc.client5.http.impl.nio.PoolingAsyncClientConnectionManagerBuilder;
import org.apache.hc.client5.http.protocol.HttpClientContext;
import org.apache.hc.client5.http.ssl.ClientTlsStrategyBuilder;
import org.apache.hc.core5.concurrent.FutureCallback;
import org.apache.hc.core5.http.EntityDetails;
import org.apache.hc.core5.http.Header;
import org.apache.hc.core5.http.HttpHost;
import org.apache.hc.core5.http.HttpResponse;
import org.apache.hc.core5.http.Method;
import org.apache.hc.core5.http.message.BasicHttpRequest;
import org.apache.hc.core5.http.nio.AsyncResponseConsumer;
import org.apache.hc.core5.http.nio.CapacityChannel;
import org.apache.hc.core5.http.nio.support.BasicRequestProducer;
import org.apache.hc.core5.http.protocol.HttpContext;
import org.apache.hc.core5.http2.HttpVersionPolicy;
import org.apache.hc.core5.io.CloseMode;
import org.apache.hc.core5.pool.PoolConcurrencyPolicy;
import org.apache.hc.core5.reactor.IOReactorConfig;
import org.apache.hc.core5.ssl.SSLContexts;
import org.apache.hc.core5.util.TimeValue;
import org.apache.hc.core5.util.Timeout;

/**
 * One fetch attempt as a non-blocking Camel {@link org.apache.camel.AsyncProcessor}: body = URL
 * → body = the item's {@link FetchItem#ok ok entry}, or the exchange fails with the reason
 * ({@link UpstreamStatusException}, {@link FetchResponseException}, an I/O error) for
 * {@code http-retry} and {@link FetchGather} to judge.
 *
 * <p>Built on Apache HttpClient 5's async client (the library under camel-http): its I/O reactor
 * (one thread per core) carries every connection, so a request in flight holds no thread. What
 * the blocking design got from its pool of threads is kept explicitly:
 * <ul>
 *   <li>at most {@code app.fetch.max-concurrency} requests in flight over all callers
 *   ({@link AsyncPermits}: the others wait in a queue, not in a thread), and the connection pool
 *   allows as many connections;</li>
 *   <li>the {@link SsrfGuard} is the client's DNS resolver, so it checks the addresses the client
 *   connects to;</li>
 *   <li>no redirects, no cookies, no automatic retries (retries are {@code http-retry}'s), no
 *   system proxy (a proxy would be resolved and checked instead of the target);</li>
 *   <li>the body is read up to {@code app.fetch.max-response-bytes} and the connection is dropped
 *   past that;</li>
 *   <li>a request never outlives the caller's deadline ({@link ExchangeProperties#DEADLINE})
 *   nor its connect + response timeouts together: a cut-off timer ends it (and frees its permit)
 *   whatever the connection is doing.</li>
 * </ul>
 * Completions are handed from the I/O threads to {@code completions}, so parsing JSON and the
 * rest of the route never run on (and never stall) the I/O reactor.
 */
public class FetchClient extends AsyncProcessorSupport {

    private final AppSettings.Fetch settings;
    private final SsrfGuard guard;
    private final Executor completions;
    private final AsyncPermits permits;
    private final RequestConfig defaults;
    private volatile CloseableHttpAsyncClient client;
    private volatile ScheduledThreadPoolExecutor timer;

    public FetchClient(AppSettings.Fetch settings, SsrfGuard guard, Executor completions) {
        this.settings = settings;
        this.guard = guard;
        this.completions = completions;
        this.permits = new AsyncPermits(settings.getMaxConcurrency());
        this.defaults = RequestConfig.custom()
                .setConnectionRequestTimeout(Timeout.of(settings.getDeadline()))
                .setResponseTimeout(Timeout.of(settings.getResponseTimeout()))
                .setRedirectsEnabled(false)
                .build();
    }

    @Override
    protected void doStart() {
        CloseableHttpAsyncClient started = HttpAsyncClients.custom()
                .setConnectionManager(PoolingAsyncClientConnectionManagerBuilder.create()
                        .setMaxConnTotal(settings.getMaxConcurrency())
                        .setMaxConnPerRoute(settings.getMaxConcurrency())
                        // the permits queue the waiting requests; the pool only has to hand out connections
                        .setPoolConcurrencyPolicy(PoolConcurrencyPolicy.LAX)
                        .setDnsResolver(guard)
                        .setTlsStrategy(ClientTlsStrategyBuilder.create()
                                .setSslContext(SSLContexts.createSystemDefault())
                                .build())
                        .setDefaultTlsConfig(TlsConfig.custom().setVersionPolicy(HttpVersionPolicy.FORCE_HTTP_1).build())
                        .setDefaultConnectionConfig(ConnectionConfig.custom()
                                .setConnectTimeout(Timeout.of(settings.getConnectTimeout()))
                                .setSocketTimeout(Timeout.of(settings.getResponseTimeout()))
                                // a pooled connection the server closed meanwhile is checked, not failed on
                                .setValidateAfterInactivity(TimeValue.ofSeconds(1))
                                .build())
                        .build())
                .setIOReactorConfig(IOReactorConfig.custom()
                        .setTcpNoDelay(true)
                        // how often the reactor checks timeouts: keeps a deadline-cut timeout close to the deadline
                        .setSelectInterval(TimeValue.ofMilliseconds(100))
                        .build())
                .setDefaultRequestConfig(defaults)
                .disableRedirectHandling()
                .disableCookieManagement()
                .disableAutomaticRetries()
                .disableAuthCaching()
                .disableConnectionState()
                .evictIdleConnections(TimeValue.ofSeconds(30))
                .setUserAgent("async-routes-fetch")
                .build();
        started.start();
        ScheduledThreadPoolExecutor cutoffs = new ScheduledThreadPoolExecutor(1, runnable -> {
            Thread thread = new Thread(runnable, "fetch-cutoff");
            thread.setDaemon(true);
            return thread;
        });
        cutoffs.setRemoveOnCancelPolicy(true); // most cut-offs are cancelled: do not keep them queued
        timer = cutoffs;
        client = started;
        warmUp(started);
    }

    /**
     * The first request of a JVM through the async client loads and links a few hundred classes
     * (about a second on a busy 2-core machine): one request to a throwaway loopback listener of our
     * own, in the background at start, takes that off the first real fetch. The target is an
     * address, not a name, so it never reaches the resolver (the SSRF guard is for callers' URLs).
     */
    private void warmUp(CloseableHttpAsyncClient http) {
        Thread responder = new Thread(() -> {
            try (ServerSocket listener = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
                listener.setSoTimeout(10_000);
                http.execute(new BasicRequestProducer(Method.GET,
                                new HttpHost("http", InetAddress.getLoopbackAddress(), listener.getLocalPort()), "/"),
                        new CappedBody(64), null, HttpClientContext.create(), null);
                try (Socket socket = listener.accept()) {
                    socket.setSoTimeout(10_000);
                    InputStream in = socket.getInputStream();
                    // read the request head, then answer and close
                    for (int state = 0, b; state < 4 && (b = in.read()) >= 0; ) {
                        state = (b == '\r' && state % 2 == 0) || (b == '\n' && state % 2 == 1) ? state + 1 : 0;
                    }
                    OutputStream out = socket.getOutputStream();
                    out.write(("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n"
                            + "Connection: close\r\n\r\n{}").getBytes(StandardCharsets.US_ASCII));
                    out.flush();
                }
            } catch (IOException | RuntimeException e) {
                // only a warm-up: the first real fetch is slower, nothing else
            }
        }, "fetch-warm-up");
        responder.setDaemon(true);
        responder.start();
    }

    @Override
    protected void doStop() {
        CloseableHttpAsyncClient stopping = client;
        client = null;
        if (stopping != null) {
            stopping.close(CloseMode.GRACEFUL);
        }
        ScheduledThreadPoolExecutor cutoffs = timer;
        timer = null;
        if (cutoffs != null) {
            cutoffs.shutdownNow();
        }
    }

    /** Requests in flight now (permits taken); for tests and metrics. */
    public int inFlight() {
        return settings.getMaxConcurrency() - permits.available();
    }

    /** Requests waiting for a permit now. */
    public int waiting() {
        return permits.waiting();
    }

    @Override
    public boolean process(Exchange exchange, AsyncCallback callback) {
        String url = exchange.getMessage().getBody(String.class);
        long deadline = exchange.getProperty(ExchangeProperties.DEADLINE, Long.MAX_VALUE, Long.class);
        permits.acquire(() -> send(exchange, url, deadline, callback));
        // always completed from the completions executor, never on this thread
        return false;
    }

    private void send(Exchange exchange, String url, long deadline, AsyncCallback callback) {
        Attempt attempt = new Attempt(exchange, url, callback);
        try {
            long left = deadline - System.currentTimeMillis();
            if (left <= 0) {
                attempt.failed(new FetchResponseException(FetchItem.DEADLINE_EXCEEDED));
                return;
            }
            CloseableHttpAsyncClient http = client;
            if (http == null) {
                attempt.failed(new IllegalStateException("the fetch client is stopped"));
                return;
            }
            HttpClientContext context = HttpClientContext.create();
            if (deadline != Long.MAX_VALUE) {
                // nothing waits or reads past the caller's deadline
                context.setRequestConfig(RequestConfig.copy(defaults)
                        .setConnectionRequestTimeout(Timeout.ofMilliseconds(left))
                        .setResponseTimeout(Timeout.ofMilliseconds(Math.min(left, settings.getResponseTimeout().toMillis())))
                        .build());
            }
            BasicHttpRequest request = new BasicHttpRequest(Method.GET, URI.create(url));
            request.addHeader("Accept", "application/json");
            Future<Response> future = http.execute(new BasicRequestProducer(request, null),
                    new CappedBody(settings.getMaxResponseBytes()), null, context, attempt);
            // a hard cut-off of the whole attempt: the client's own timeouts are per connect and per
            // read (a server dripping a byte at a time resets them), and a connect lost in a SYN
            // storm was seen to never time out; the permit must come back either way
            long most = settings.getConnectTimeout().toMillis() + settings.getResponseTimeout().toMillis();
            boolean byDeadline = left <= most;
            attempt.cutOffAfter(timer, Math.min(left, most), byDeadline, future);
        } catch (RuntimeException e) {
            attempt.failed(e);
        }
    }

    /** The outcome of one request: called on an I/O thread (or inline), finished on {@code completions}. */
    private final class Attempt implements FutureCallback<Response> {

        private final Exchange exchange;
        private final String url;
        private final AsyncCallback callback;
        private final AtomicBoolean finished = new AtomicBoolean();
        private volatile ScheduledFuture<?> cutOff;

        Attempt(Exchange exchange, String url, AsyncCallback callback) {
            this.exchange = exchange;
            this.url = url;
            this.callback = callback;
        }

        void cutOffAfter(ScheduledExecutorService cutoffs, long millis, boolean byDeadline, Future<Response> request) {
            if (cutoffs == null) {
                return; // stopping: the client's close fails the request
            }
            try {
                cutOff = cutoffs.schedule(() -> {
                    finish(null, byDeadline ? new FetchResponseException(FetchItem.DEADLINE_EXCEEDED)
                            : new SocketTimeoutException("no complete answer within " + millis + " ms"));
                    request.cancel(true); // drops the connection; its own callback finds the attempt finished
                }, millis, TimeUnit.MILLISECONDS);
            } catch (RejectedExecutionException stopping) {
                return;
            }
            if (finished.get()) {
                cutOff.cancel(false); // the answer came first
            }
        }

        @Override
        public void completed(Response response) {
            finish(response, null);
        }

        @Override
        public void failed(Exception error) {
            finish(null, error instanceof CappedBody.TooLarge
                    ? new FetchResponseException("response larger than " + settings.getMaxResponseBytes() + " bytes")
                    : error);
        }

        @Override
        public void cancelled() {
            finish(null, new IOException("request cancelled"));
        }

        private void finish(Response response, Exception error) {
            if (!finished.compareAndSet(false, true)) {
                return;
            }
            ScheduledFuture<?> pending = cutOff;
            if (pending != null) {
                pending.cancel(false);
            }
            Runnable done = () -> {
                // the next waiting request starts here, off the I/O thread
                permits.release();
                try {
                    if (error != null) {
                        exchange.setException(error);
                    } else {
                        exchange.getMessage().setBody(toItem(response));
                    }
                } catch (Exception e) {
                    exchange.setException(e);
                } finally {
                    callback.done(false);
                }
            };
            try {
                completions.execute(done);
            } catch (RejectedExecutionException shuttingDown) {
                done.run(); // never leave the exchange (and its permit) hanging
            }
        }

        private JsonNode toItem(Response response) throws Exception {
            if (response.status < 200 || response.status > 299) {
                throw new UpstreamStatusException(response.status, FetchRoutes.retryAfter(response.retryAfter));
            }
            JsonNode json = parseJson(response.body);
            int attempts = exchange.getMessage().getHeader(Exchange.REDELIVERY_COUNTER, 0, Integer.class) + 1;
            long millis = System.currentTimeMillis() - exchange.getProperty(ExchangeProperties.FETCH_ITEM_STARTED, Long.class);
            return FetchItem.ok(url, response.status, json, attempts, millis);
        }
    }

    private static JsonNode parseJson(byte[] bytes) throws FetchResponseException {
        if (bytes.length == 0) {
            throw new FetchResponseException("empty body, expected JSON");
        }
        try {
            return Json.MAPPER.readTree(bytes);
        } catch (JsonProcessingException e) {
            throw new FetchResponseException("body is not JSON");
        } catch (IOException e) {
            throw new FetchResponseException("body is not readable JSON");
        }
    }

    /** Status, Retry-After and the body (kept only for a 2xx). */
    record Response(int status, String retryAfter, byte[] body) {
    }

    /**
     * Reads a response without ever holding more than {@code cap} body bytes: a larger declared
     * length or a longer body fails the request (and drops the connection). Bodies of non-2xx
     * answers are read and discarded, so their connection can be reused.
     */
    static final class CappedBody implements AsyncResponseConsumer<Response> {

        private static final byte[] EMPTY = new byte[0];

        /** Thrown from the I/O callbacks to abort the exchange; mapped to a {@link FetchResponseException}. */
        static final class TooLarge extends IOException {
            TooLarge() {
                super("response body over the size cap");
            }
        }

        private final int cap;
        private int status;
        private String retryAfter;
        private boolean keep;
        private byte[] buffer = EMPTY;
        private int length;
        private FutureCallback<Response> result;

        CappedBody(int cap) {
            this.cap = cap;
        }

        @Override
        public void consumeResponse(HttpResponse response, EntityDetails entity, HttpContext context,
                FutureCallback<Response> resultCallback) throws IOException {
            status = response.getCode();
            Header header = response.getFirstHeader("Retry-After");
            retryAfter = header == null ? null : header.getValue();
            keep = status >= 200 && status <= 299;
            if (entity == null) {
                resultCallback.completed(new Response(status, retryAfter, EMPTY));
                return;
            }
            long declared = entity.getContentLength();
            if (keep && declared > cap) {
                throw new TooLarge();
            }
            if (keep) {
                buffer = new byte[declared >= 0 ? (int) declared : Math.min(cap, 8192)];
            }
            result = resultCallback;
        }

        @Override
        public void informationResponse(HttpResponse response, HttpContext context) {
            // 1xx: nothing to do
        }

        @Override
        public void updateCapacity(CapacityChannel channel) throws IOException {
            channel.update(Integer.MAX_VALUE); // the cap bounds what is kept; no flow control needed
        }

        @Override
        public void consume(ByteBuffer src) throws IOException {
            int n = src.remaining();
            if (!keep) {
                src.position(src.limit());
                return;
            }
            if ((long) length + n > cap) {
                throw new TooLarge();
            }
            if (length + n > buffer.length) {
                buffer = Arrays.copyOf(buffer, (int) Math.min(cap, Math.max((long) buffer.length * 2, length + n)));
            }
            src.get(buffer, length, n);
            length += n;
        }

        @Override
        public void streamEnd(List<? extends Header> trailers) {
            byte[] body = !keep ? EMPTY : length == buffer.length ? buffer : Arrays.copyOf(buffer, length);
            result.completed(new Response(status, retryAfter, body));
        }

        @Override
        public void failed(Exception cause) {
            // the request's own callback hears of it
        }

        @Override
        public void releaseResources() {
            buffer = EMPTY;
        }
    }
}
