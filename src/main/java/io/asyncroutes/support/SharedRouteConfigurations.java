package io.asyncroutes.support;

import io.asyncroutes.message.ExchangeProperties;
import io.asyncroutes.message.Headers;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.apache.camel.Exchange;
import org.apache.camel.LoggingLevel;
import org.apache.camel.Message;
import org.apache.camel.builder.RouteConfigurationBuilder;
import org.apache.camel.model.RouteConfigurationDefinition;

/**
 * Error handling shared by the routes, declared once and referenced by id
 * ({@code routeConfigurationId}) from Java and YAML routes alike.
 *
 * <ul>
 *   <li>{@value #INTAKE}: a message that breaks the contract, or fails for a reason that will not
 *   go away, is dead-lettered with its reason and the queue keeps flowing. The dead letter carries
 *   the message as it arrived (body and headers), kept when it enters the route. A transient failure
 *   (Redis, broker, database down) is not handled: the inbound message is rolled back and the
 *   broker redelivers it later, so nothing is lost while a dependency is down.</li>
 *   <li>{@value #DATABASE}: database writes retry transient failures forever with capped
 *   exponential backoff (a WARN per retry); anything else surfaces to the caller.</li>
 * </ul>
 * The retry policy of outbound HTTP calls, {@code http-retry}, is fetch's
 * ({@code fetch/HttpRetryConfiguration}): it knows fetch's failures.
 */
public class SharedRouteConfigurations extends RouteConfigurationBuilder {

    public static final String INTAKE = "intake-errors";
    public static final String DATABASE = "database-retry";

    /** A message failing for an unexpected, non-transient reason is tried this often before it is dead-lettered. */
    private static final int UNEXPECTED_ERROR_REDELIVERIES = 2;

    private final Duration databaseRetryInitialDelay;
    private final Duration databaseRetryMaxDelay;

    /** The database retry's first and longest delay ({@code app.persistence.retry-*}). */
    public SharedRouteConfigurations(Duration databaseRetryInitialDelay, Duration databaseRetryMaxDelay) {
        this.databaseRetryInitialDelay = databaseRetryInitialDelay;
        this.databaseRetryMaxDelay = databaseRetryMaxDelay;
    }

    @Override
    public void configuration() {
        RouteConfigurationDefinition intake = routeConfiguration(INTAKE);
        // the message as it arrived, for its dead letter: kept by the intake routes alone, because
        // Camel's useOriginalMessage() makes every exchange of the context copy its message when it
        // starts (every REST call, fetched URL and tapped copy; with camel-jms, each copy of a
        // JmsMessage also throws and catches an exception inside Camel)
        intake.interceptFrom().process(SharedRouteConfigurations::keepArrived);
        intake
                // the broker redelivered this message and the copy took its place: end this delivery quietly
                .onException(SupersededDeliveryException.class)
                    .handled(true)
                    .log(LoggingLevel.DEBUG, "io.asyncroutes.intake", "${exception.message}: ${exchangeId} ends, its copy goes on")
                .end()
                // handed back unhandled by the ordering gate at a stop: the exchange fails (its message goes back to
                // the broker), with no ERROR for each of them
                .onException(StoppingException.class)
                    .handled(false)
                    .logExhausted(false)
                .end()
                .onException(RejectedInputException.class)
                    .handled(true)
                    .process(SharedRouteConfigurations::restoreArrived)
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
                    .process(SharedRouteConfigurations::restoreArrived)
                    .process(exchange -> exchange.getMessage().setHeader(Headers.DEAD_LETTER_REASON,
                            "unexpected_error: " + exchange.getProperty(Exchange.EXCEPTION_CAUGHT, Exception.class)))
                    .to("direct:dead-letter")
                .end();

        routeConfiguration(DATABASE)
                .onException(Exception.class)
                    .onWhen(TransientErrors.TRANSIENT)
                    .maximumRedeliveries(-1)
                    .redeliveryDelay(databaseRetryInitialDelay.toMillis())
                    .useExponentialBackOff()
                    .backOffMultiplier(2)
                    .maximumRedeliveryDelay(databaseRetryMaxDelay.toMillis())
                    .retryAttemptedLogLevel(LoggingLevel.WARN)
                    .logRetryAttempted(true)
                    .logExhausted(true)
                .end();
    }

    private static void keepArrived(Exchange exchange) {
        Message in = exchange.getIn();
        exchange.setProperty(ExchangeProperties.ARRIVED_BODY, in.getBody());
        exchange.setProperty(ExchangeProperties.ARRIVED_HEADERS, new HashMap<>(in.getHeaders()));
    }

    @SuppressWarnings("unchecked")
    private static void restoreArrived(Exchange exchange) {
        Map<String, Object> headers = exchange.getProperty(ExchangeProperties.ARRIVED_HEADERS, Map.class);
        if (headers == null) {
            return; // failed before it was kept: the message is still the arriving one
        }
        Message message = exchange.getMessage();
        message.setBody(exchange.getProperty(ExchangeProperties.ARRIVED_BODY));
        message.setHeaders(new HashMap<>(headers));
    }
}
