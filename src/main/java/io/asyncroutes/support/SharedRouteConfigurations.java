package io.asyncroutes.support;

import io.asyncroutes.config.AppSettings;
import io.asyncroutes.fetch.FetchResponseException;
import io.asyncroutes.fetch.SsrfGuard;
import io.asyncroutes.fetch.UpstreamStatusException;
import io.asyncroutes.message.ExchangeProperties;
import io.asyncroutes.message.Headers;
import io.asyncroutes.support.RejectedInputException;
import org.apache.camel.Exchange;
import org.apache.camel.LoggingLevel;
import org.apache.camel.builder.RouteConfigurationBuilder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Error handling shared by the routes, declared once and referenced by id
 * ({@code routeConfigurationId}) from Java and YAML routes alike.
 *
 * <ul>
 *   <li>{@value #INTAKE}: a message that breaks the contract, or fails for a reason that will not
 *   go away, is dead-lettered with its reason and the queue keeps flowing. A transient failure
 *   (Redis, broker, database down) is not handled: the inbound message is rolled back and the
 *   broker redelivers it later, so nothing is lost while a dependency is down.</li>
 *   <li>{@value #DATABASE}: database writes retry transient failures forever with capped
 *   exponential backoff (a WARN per retry); anything else surfaces to the caller.</li>
 *   <li>{@value #HTTP_RETRY}: the seed's {@code resilient_call}, without its flaws. Transient
 *   failures only (connection errors, timeouts, HTTP 5xx, 408, 429; never another 4xx, never a bad
 *   body), {@code app.retry.max-attempts} attempts in all, exponential backoff with jitter, a
 *   Retry-After honoured up to the maximum delay, asynchronous delayed redelivery (no thread
 *   sleeps while waiting), a WARN {@code Retry n/N <target>: <reason>} per retry, and no retry
 *   past the caller's deadline. Exhausted or permanent failures surface to the caller.</li>
 * </ul>
 */
public class SharedRouteConfigurations extends RouteConfigurationBuilder {

    public static final String INTAKE = "intake-errors";
    public static final String DATABASE = "database-retry";
    public static final String HTTP_RETRY = "http-retry";

    private static final Logger RETRY_LOG = LoggerFactory.getLogger("io.asyncroutes.retry");

    /** A message failing for an unexpected, non-transient reason is tried this often before it is dead-lettered. */
    private static final int UNEXPECTED_ERROR_REDELIVERIES = 2;

    private final AppSettings settings;

    public SharedRouteConfigurations(AppSettings settings) {
        this.settings = settings;
    }

    @Override
    public void configuration() {
        routeConfiguration(INTAKE)
                // the broker redelivered this message and the copy took its place: end this delivery quietly
                .onException(SupersededDeliveryException.class)
                    .handled(true)
                    .log(LoggingLevel.DEBUG, "io.asyncroutes.intake", "${exception.message}: ${exchangeId} ends, its copy goes on")
                .end()
                .onException(RejectedInputException.class)
                    .handled(true)
                    .useOriginalMessage()
                    .process(exchange -> exchange.getMessage().setHeader(Headers.DEAD_LETTER_REASON, exchange
                            .getProperty(Exchange.EXCEPTION_CAUGHT, RejectedInputException.class).reason()))
                    .to("direct:dead-letter")
                .end()
                .onException(Exception.class)
                    .onWhen(TransientErrors.PERMANENT)
                    .maximumRedeliveries(UNEXPECTED_ERROR_REDELIVERIES)
                    .redeliveryDelay(200)
                    .retryAttemptedLogLevel(LoggingLevel.WARN)
                    .handled(true)
                    .useOriginalMessage()
                    .process(exchange -> exchange.getMessage().setHeader(Headers.DEAD_LETTER_REASON,
                            "unexpected_error: " + exchange.getProperty(Exchange.EXCEPTION_CAUGHT, Exception.class)))
                    .to("direct:dead-letter")
                .end();

        AppSettings.Persistence p = settings.getPersistence();
        routeConfiguration(DATABASE)
                .onException(Exception.class)
                    .onWhen(TransientErrors.TRANSIENT)
                    .maximumRedeliveries(-1)
                    .redeliveryDelay(p.getRetryInitialDelay().toMillis())
                    .useExponentialBackOff()
                    .backOffMultiplier(2)
                    .maximumRedeliveryDelay(p.getRetryMaxDelay().toMillis())
                    .retryAttemptedLogLevel(LoggingLevel.WARN)
                    .logRetryAttempted(true)
                    .logExhausted(true)
                .end();

        AppSettings.Retry r = settings.getRetry();
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
                        int retry = exchange.getMessage().getHeader(Exchange.REDELIVERY_COUNTER, 1, Integer.class);
                        // a Retry-After from the server replaces the computed delay, capped
                        long delay = caught(exchange) instanceof UpstreamStatusException u && u.retryAfterMillis() != null
                                ? Math.min(u.retryAfterMillis(), r.getMaxDelay().toMillis())
                                : backoff(r, retry);
                        exchange.getMessage().setHeader(Exchange.REDELIVERY_DELAY, delay);
                    })
                    .onRedelivery(exchange -> RETRY_LOG.warn("Retry {}/{} {}: {}",
                            exchange.getMessage().getHeader(Exchange.REDELIVERY_COUNTER, Integer.class), maxRetries,
                            target(exchange), io.asyncroutes.fetch.FetchGather.describe(caught(exchange))))
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
        double factor = 1 + r.getJitter() * (2 * java.util.concurrent.ThreadLocalRandom.current().nextDouble() - 1);
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
