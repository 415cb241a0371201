package io.asyncroutes.fetch;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import io.asyncroutes.config.AppSettings;
import io.asyncroutes.pipeline.MessageResult;
import io.asyncroutes.support.Json;
import io.asyncroutes.support.SharedRouteConfigurations;
import java.io.IOException;
import java.io.InputStream;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.concurrent.ExecutorService;
import org.apache.camel.Exchange;
import org.apache.camel.Message;
import org.apache.camel.builder.RouteBuilder;
import org.apache.camel.component.http.HttpClientConfigurer;
import org.apache.camel.spi.ThreadPoolProfile;
import org.apache.hc.client5.http.config.ConnectionConfig;
import org.apache.hc.client5.http.config.RequestConfig;
import org.apache.hc.client5.http.impl.io.PoolingHttpClientConnectionManager;
import org.apache.hc.client5.http.impl.io.PoolingHttpClientConnectionManagerBuilder;
import org.apache.hc.core5.util.TimeValue;
import org.apache.hc.core5.util.Timeout;

/**
 * The seed's {@code fetch_all} / {@code fetch_data} / {@code resilient_call}:
 *
 * <ul>
 *   <li>{@code fetch-all}: body {@code List<String>} of URLs → body {@code List<JsonNode>}, one
 *   entry per URL in input order ({@link FetchGather}). A parallel split on a shared pool of
 *   {@code app.fetch.max-concurrency} threads, so that is the most requests in flight over all
 *   messages, with an overall deadline.</li>
 *   <li>{@code fetch-context}: the pipeline step of {@code handle-message}: a message's
 *   {@code fetch} URLs through {@code fetch-all} into its result's {@code context}.</li>
 *   <li>{@code fetch-one}: SSRF check, then one logical fetch, retried on transient failures by the
 *   shared route configuration {@value SharedRouteConfigurations#HTTP_RETRY}.</li>
 *   <li>{@code fetch-attempt}: one HTTP GET with camel-http: a non-2xx status, a non-JSON body or
 *   an oversized body is an error, never a success.</li>
 * </ul>
 */
public class FetchRoutes extends RouteBuilder {

    /** Registry name of the HTTP connection pool used by fetch-attempt. */
    public static final String CONNECTION_MANAGER = "fetchConnectionManager";
    public static final String CLIENT_CONFIGURER = "fetchClientConfigurer";

    private final AppSettings.Fetch settings;
    private final SsrfGuard guard;

    public FetchRoutes(AppSettings.Fetch settings) {
        this.settings = settings;
        this.guard = new SsrfGuard(settings.isAllowPrivate(), settings.getAllowedHosts());
    }

    @Override
    public void configure() {
        bindHttpClient();
        ThreadPoolProfile profile = new ThreadPoolProfile("fetch");
        profile.setPoolSize(settings.getMaxConcurrency());
        profile.setMaxPoolSize(settings.getMaxConcurrency());
        profile.setMaxQueueSize(-1);
        profile.setAllowCoreThreadTimeOut(true);
        ExecutorService pool = getContext().getExecutorServiceManager().newThreadPool(this, "fetch", profile);
        long deadline = settings.getDeadline().toMillis();

        from("direct:fetch-all").routeId("fetch-all")
                .process(exchange -> {
                    exchange.setProperty(FetchGather.URLS, List.copyOf(exchange.getMessage().getBody(List.class)));
                    exchange.setProperty(FetchGather.STARTED, System.currentTimeMillis());
                    exchange.setProperty(SharedRouteConfigurations.DEADLINE, System.currentTimeMillis() + deadline);
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
                .setProperty("arResult", body())
                .setBody(simple("${body.fetch}"))
                .to("direct:fetch-all")
                .process(exchange -> {
                    MessageResult result = exchange.getProperty("arResult", MessageResult.class);
                    result.setContext(exchange.getMessage().getBody(List.class));
                    exchange.getMessage().setBody(result);
                });

        from("direct:fetch-one").routeId("fetch-one")
                .routeConfigurationId(SharedRouteConfigurations.HTTP_RETRY)
                .process(exchange -> {
                    exchange.setProperty(FetchGather.FETCH_STARTED, System.currentTimeMillis());
                    guard.checkUrl(exchange.getMessage().getBody(String.class));
                })
                .to("direct:fetch-attempt");

        from("direct:fetch-attempt").routeId("fetch-attempt")
                .errorHandler(noErrorHandler()) // fetch-one retries the whole attempt
                .process(exchange -> {
                    Message message = exchange.getMessage();
                    String url = message.getBody(String.class);
                    message.setHeader(Exchange.HTTP_URI, url);
                    // camel-http takes the query from this header, not from the URI header
                    message.setHeader(Exchange.HTTP_QUERY, java.net.URI.create(url).getRawQuery());
                    message.setHeader(Exchange.HTTP_METHOD, "GET");
                    message.setBody(null);
                })
                // skipRequestHeaders: nothing of the message travels to a third party but the URL
                .to("http://fetch-upstream?throwExceptionOnFailure=false&followRedirects=false"
                        + "&disableStreamCache=true&skipRequestHeaders=true&cookieManagementDisabled=true"
                        + "&clientConnectionManager=#" + CONNECTION_MANAGER
                        + "&httpClientConfigurer=#" + CLIENT_CONFIGURER)
                .process(this::toItem);
    }

    private void bindHttpClient() {
        // sized to the fan-out: camel-http's default of 20 connections per route would serialise it
        PoolingHttpClientConnectionManager connections = PoolingHttpClientConnectionManagerBuilder.create()
                .setMaxConnTotal(settings.getMaxConcurrency())
                .setMaxConnPerRoute(settings.getMaxConcurrency())
                .setDnsResolver(guard)
                .setDefaultConnectionConfig(ConnectionConfig.custom()
                        .setConnectTimeout(Timeout.of(settings.getConnectTimeout()))
                        .setSocketTimeout(Timeout.of(settings.getResponseTimeout()))
                        // a pooled connection the server closed meanwhile is checked, not failed on
                        .setValidateAfterInactivity(TimeValue.ofSeconds(1))
                        .build())
                .build();
        HttpClientConfigurer configurer = builder -> builder.setDefaultRequestConfig(RequestConfig.custom()
                .setConnectionRequestTimeout(Timeout.of(settings.getDeadline()))
                .setResponseTimeout(Timeout.of(settings.getResponseTimeout()))
                .setRedirectsEnabled(false)
                .build());
        getContext().getRegistry().bind(CONNECTION_MANAGER, connections);
        getContext().getRegistry().bind(CLIENT_CONFIGURER, configurer);
    }

    private void toItem(Exchange exchange) throws Exception {
        Message message = exchange.getMessage();
        int status = message.getHeader(Exchange.HTTP_RESPONSE_CODE, 0, Integer.class);
        String url = message.getHeader(Exchange.HTTP_URI, String.class);
        try (InputStream body = message.getBody(InputStream.class)) {
            if (status < 200 || status > 299) {
                throw new UpstreamStatusException(status, retryAfter(message.getHeader("Retry-After", String.class)));
            }
            Long length = message.getHeader(Exchange.CONTENT_LENGTH, Long.class);
            if (length != null && length > settings.getMaxResponseBytes()) {
                throw new FetchResponseException("response larger than " + settings.getMaxResponseBytes() + " bytes");
            }
            byte[] bytes = body == null ? new byte[0] : body.readNBytes(settings.getMaxResponseBytes() + 1);
            if (bytes.length > settings.getMaxResponseBytes()) {
                throw new FetchResponseException("response larger than " + settings.getMaxResponseBytes() + " bytes");
            }
            JsonNode json = parseJson(bytes);
            int attempts = message.getHeader(Exchange.REDELIVERY_COUNTER, 0, Integer.class) + 1;
            long millis = System.currentTimeMillis() - exchange.getProperty(FetchGather.FETCH_STARTED, Long.class);
            message.removeHeaders("*");
            message.setBody(FetchItem.ok(url, status, json, attempts, millis));
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
