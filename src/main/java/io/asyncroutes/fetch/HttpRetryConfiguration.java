package io.asyncroutes.fetch;

import io.asyncroutes.message.ExchangeProperties;
import io.asyncroutes.settings.AppSettings;
import io.asyncroutes.support.TransientErrors;
import java.util.concurrent.ThreadLocalRandom;
import org.apache.camel.Exchange;
import org.apache.camel.LoggingLevel;
import org.apache.camel.builder.RouteConfigurationBuilder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Route configuration {@value #HTTP_RETRY}, the retry policy of outbound HTTP calls (the fetch
 * steps and the LLM call), referenced by id ({@code routeConfigurationId}). It lives with fetch
 * because it knows fetch's failures (a refused target, a bad body, an upstream status).
 *
 * <p>The seed's {@code resilient_call}, without its flaws. Transient failures only (connection
 * errors, timeouts, HTTP 5xx, 408, 429; never another 4xx, never a bad body),
 * {@code app.retry.max-attempts} attempts in all, exponential backoff with jitter, a Retry-After
 * honoured up to the maximum delay, asynchronous delayed redelivery (no thread sleeps while
 * waiting), a WARN {@code Retry n/N <target>: <reason>} per retry, and no retry past the caller's
 * deadline ({@link ExchangeProperties#DEADLINE}). Exhausted or permanent failures surface to the caller.
 */
public class HttpRetryConfiguration extends RouteConfigurationBuilder {

    public static final String HTTP_RETRY = "http-retry";

    private static final Logger RETRY_LOG = LoggerFactory.getLogger("io.asyncroutes.retry");

    private final AppSettings.Retry retry;

    public HttpRetryConfiguration(AppSettings.Retry retry) {
        this.retry = retry;
    }

    @Override
    public void configuration() {
        AppSettings.Retry r = retry;
        int maxRetries = r.getMaxAttempts() - 1;
        routeConfiguration(HTTP_RETRY)
                .onException(Exception.class)
                    .onWhen(exchange -> isTransientHttp(caught(exchange)))
                    // the counter already counts the retry about to be made
                    .retryWhile(exchange -> exchange.getMessage().getHeader(Exchange.REDELIVERY_COUNTER, 0, Integer.class) <= maxRetries
                            && System.currentTimeMillis() < exchange.getProperty(ExchangeProperties.DEADLINE, Long.MAX_VALUE, Long.class))
                    .asyncDelayedRedelivery()
                    .redeliveryDelay(r.getInitialDelay().toMillis())
                    .retryAttemptedLogLevel(LoggingLevel.DEBUG)
                    .logExhausted(false)
                    .onExceptionOccurred(exchange -> {
                        exchange.setProperty(ExchangeProperties.FAILED_AT, System.currentTimeMillis());
                        int n = exchange.getMessage().getHeader(Exchange.REDELIVERY_COUNTER, 1, Integer.class);
                        // a Retry-After from the server replaces the computed delay, capped
                        long delay = caught(exchange) instanceof UpstreamStatusException u && u.retryAfterMillis() != null
                                ? Math.min(u.retryAfterMillis(), r.getMaxDelay().toMillis())
                                : backoff(r, n);
                        exchange.getMessage().setHeader(Exchange.REDELIVERY_DELAY, delay);
                    })
                    .onRedelivery(exchange -> RETRY_LOG.warn("Retry {}/{} {}: {}",
                            exchange.getMessage().getHeader(Exchange.REDELIVERY_COUNTER, Integer.class), maxRetries,
                            target(exchange), FetchGather.describe(caught(exchange))))
                .end()
                // a failed item is a normal outcome reported to the caller, not an ERROR to log
                .onException(Exception.class)
                    .onExceptionOccurred(exchange -> exchange.setProperty(ExchangeProperties.FAILED_AT, System.currentTimeMillis()))
                    .logExhausted(false)
                .end();
    }

    /**
     * The delay before retry {@code n} (1-based): initial × multiplier^(n-1), capped at the maximum,
     * then varied by up to ±jitter. Computed here rather than by Camel's exponential back-off,
     * which multiplies the previous, already jittered delay, so its jitter compounds.
     */
    static long backoff(AppSettings.Retry r, int n) {
        double nominal = Math.min(r.getInitialDelay().toMillis() * Math.pow(r.getMultiplier(), n - 1),
                r.getMaxDelay().toMillis());
        double factor = 1 + r.getJitter() * (2 * ThreadLocalRandom.current().nextDouble() - 1);
        return Math.round(Math.min(nominal * factor, r.getMaxDelay().toMillis()));
    }

    /** Connection errors, timeouts, 5xx, 408 and 429; a refused target or a bad body never. */
    public static boolean isTransientHttp(Throwable error) {
        for (Throwable t = error; t != null; t = t.getCause()) {
            if (t instanceof SsrfGuard.RefusedTarget || t instanceof FetchResponseException
                    || t instanceof java.net.UnknownHostException) {
                return false;
            }
            if (t instanceof UpstreamStatusException u) {
                return u.isTransient();
            }
        }
        return TransientErrors.isTransient(error);
    }

    private static Throwable caught(Exchange exchange) {
        Throwable t = exchange.getException();
        return t != null ? t : exchange.getProperty(Exchange.EXCEPTION_CAUGHT, Throwable.class);
    }

    private static String target(Exchange exchange) {
        String named = exchange.getProperty(ExchangeProperties.RETRY_TARGET, String.class);
        if (named != null) {
            return named;
        }
        String uri = exchange.getMessage().getHeader(Exchange.HTTP_URI, String.class);
        return uri != null ? uri : exchange.getMessage().getBody(String.class);
    }
}
