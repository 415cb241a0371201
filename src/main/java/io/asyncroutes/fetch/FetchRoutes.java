package io.asyncroutes.fetch;

import io.asyncroutes.message.ExchangeProperties;
import io.asyncroutes.message.MessageResult;
import io.asyncroutes.settings.AppSettings;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.concurrent.ExecutorService;
import org.apache.camel.builder.RouteBuilder;
import org.apache.camel.spi.ThreadPoolProfile;

/**
 * The seed's {@code fetch_all} / {@code fetch_data} / {@code resilient_call}:
 *
 * <ul>
 *   <li>{@code fetch-all}: body {@code List<String>} of URLs → body {@code List<JsonNode>}, one
 *   entry per URL in input order ({@link FetchGather}). A parallel split with an overall deadline;
 *   its small pool only dispatches items and finishes them, because the requests themselves are
 *   non-blocking ({@link FetchClient}): at most {@code app.fetch.max-concurrency} are in flight
 *   over all messages, and a request in flight holds no thread. The caller's route goes on from
 *   the thread that finished the last item (a {@code fetch} pool thread), so a caller must only do
 *   CPU work next ({@code api-fetch} writes the JSON answer) or hop off first, as
 *   {@code fetch-context} does.</li>
 *   <li>{@code fetch-context}: the pipeline step of {@code handle-message}: a message's
 *   {@code fetch} URLs through {@code fetch-all} into its result's {@code context}, then on to the
 *   {@code fetch-return} pool, so whatever the pipeline does next (Redis, the LLM, the broker)
 *   never blocks the fetch pool.</li>
 *   <li>{@code fetch-one}: SSRF check, then one logical fetch, retried on transient failures by the
 *   shared route configuration {@value HttpRetryConfiguration#HTTP_RETRY} (asynchronous
 *   delayed redelivery: no thread waits out a backoff either).</li>
 *   <li>{@code fetch-attempt}: one HTTP GET with {@link FetchClient}: a non-2xx status, a non-JSON
 *   body or an oversized body is an error, never a success.</li>
 * </ul>
 */
public class FetchRoutes extends RouteBuilder {

    /** Registry name of the shared {@link FetchClient}. */
    public static final String CLIENT = "fetchClient";

    private final AppSettings.Fetch settings;
    private final SsrfGuard guard;

    public FetchRoutes(AppSettings.Fetch settings) {
        this.settings = settings;
        this.guard = new SsrfGuard(settings.isAllowPrivate(), settings.getAllowedHosts());
    }

    @Override
    public void configure() {
        int cores = Runtime.getRuntime().availableProcessors();
        // CPU work only (dispatch an item, parse its body, aggregate): a thread per core is enough
        ThreadPoolProfile work = new ThreadPoolProfile("fetch");
        work.setPoolSize(Math.max(2, cores));
        work.setMaxPoolSize(Math.max(2, cores));
        // a real queue: Camel makes -1 (and 0) a hand-off queue, and with every thread busy its
        // caller-runs fallback would dispatch the next item inside the current one, ever deeper
        work.setMaxQueueSize(Integer.MAX_VALUE);
        ExecutorService pool = getContext().getExecutorServiceManager().newThreadPool(this, "fetch", work);
        // where fetch-context's caller continues: it may block (Redis, JDBC, the LLM), so the pool grows
        // on demand up to the fan-out bound and shrinks again when idle
        ThreadPoolProfile back = new ThreadPoolProfile("fetch-return");
        back.setPoolSize(Math.max(2, cores));
        back.setMaxPoolSize(Math.max(Math.max(2, cores), settings.getMaxConcurrency()));
        back.setMaxQueueSize(0);
        back.setAllowCoreThreadTimeOut(true);
        back.setRejectedPolicy(org.apache.camel.util.concurrent.ThreadPoolRejectedPolicy.CallerRuns);
        ExecutorService returnPool = getContext().getExecutorServiceManager().newThreadPool(this, "fetch-return", back);

        FetchClient client = new FetchClient(settings, guard, pool);
        getContext().getRegistry().bind(CLIENT, client);
        try {
            // started and stopped with the CamelContext, shared by every fetch-attempt
            getContext().addService(client, true, true);
        } catch (Exception e) {
            throw new IllegalStateException("cannot register the fetch client", e);
        }
        long deadline = settings.getDeadline().toMillis();

        from("direct:fetch-all").routeId("fetch-all")
                .process(exchange -> {
                    long now = System.currentTimeMillis();
                    exchange.setProperty(ExchangeProperties.FETCH_URLS, List.copyOf(exchange.getMessage().getBody(List.class)));
                    exchange.setProperty(ExchangeProperties.FETCH_STARTED, now);
                    exchange.setProperty(ExchangeProperties.DEADLINE, now + deadline);
                })
                .split(body(), new FetchGather())
                    .parallelProcessing()
                    // aggregate as items finish: FetchGather places each by its index anyway
                    .streaming()
                    .executorService(pool)
                    .timeout(deadline)
                    .to("direct:fetch-one")
                .end();

        // the pipeline step: the message's fetch URLs become its result's context
        from("direct:fetch-context").routeId("fetch-context")
                // nothing to fetch: the context stays empty (a reply message gathers this branch either way)
                .filter(exchange -> !exchange.getMessage().getBody(MessageResult.class).getFetch().isEmpty())
                .setProperty(ExchangeProperties.RESULT, body())
                .setBody(simple("${body.fetch}"))
                .to("direct:fetch-all")
                // off the fetch pool before the pipeline's blocking steps; here, not in fetch-all, so
                // api-fetch (CPU only next) writes its answer without one more thread hand-off
                .threads().executorService(returnPool)
                .process(exchange -> {
                    MessageResult result = exchange.getProperty(ExchangeProperties.RESULT, MessageResult.class);
                    result.setContext(exchange.getMessage().getBody(List.class));
                    exchange.getMessage().setBody(result);
                });

        from("direct:fetch-one").routeId("fetch-one")
                .routeConfigurationId(HttpRetryConfiguration.HTTP_RETRY)
                .process(exchange -> {
                    exchange.setProperty(ExchangeProperties.FETCH_ITEM_STARTED, System.currentTimeMillis());
                    guard.checkUrl(exchange.getMessage().getBody(String.class));
                })
                .to("direct:fetch-attempt");

        // nothing of the message travels to a third party but the URL: FetchClient builds a bare GET
        from("direct:fetch-attempt").routeId("fetch-attempt")
                .errorHandler(noErrorHandler()) // fetch-one retries the whole attempt
                .process(client);
    }

    /** Retry-After is either delta-seconds or an HTTP date. */
    static Long retryAfter(String value) {
        if (value == null || value.isBlank()) {
            return null;
        }
        try {
            return Duration.ofSeconds(Long.parseLong(value.trim())).toMillis();
        } catch (NumberFormatException e) {
            try {
                ZonedDateTime when = ZonedDateTime.parse(value.trim(), DateTimeFormatter.RFC_1123_DATE_TIME);
                return Math.max(0, when.toInstant().toEpochMilli() - System.currentTimeMillis());
            } catch (RuntimeException unparsable) {
                return null;
            }
        }
    }
}
