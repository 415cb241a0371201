package io.asyncroutes.support;

import io.asyncroutes.config.AppSettings;
import io.asyncroutes.ordering.OrderingDeferredException;
import io.asyncroutes.support.RejectedInputException;
import org.apache.camel.Exchange;
import org.apache.camel.LoggingLevel;
import org.apache.camel.builder.RouteConfigurationBuilder;

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
 * </ul>
 */
public class SharedRouteConfigurations extends RouteConfigurationBuilder {

    public static final String INTAKE = "intake-errors";
    public static final String DATABASE = "database-retry";

    /** A message failing for an unexpected, non-transient reason is tried this often before it is dead-lettered. */
    private static final int UNEXPECTED_ERROR_REDELIVERIES = 2;

    private final AppSettings settings;

    public SharedRouteConfigurations(AppSettings settings) {
        this.settings = settings;
    }

    @Override
    public void configuration() {
        routeConfiguration(INTAKE)
                .onException(RejectedInputException.class)
                    .handled(true)
                    .useOriginalMessage()
                    .process(exchange -> exchange.getMessage().setHeader(Headers.DEAD_LETTER_REASON, exchange
                            .getProperty(Exchange.EXCEPTION_CAUGHT, RejectedInputException.class).reason()))
                    .to("direct:dead-letter")
                .end()
                // an early message on a transacted JMS consumer (order-by-thread): back on the inbound
                // queue after a short delay, in the same transaction; handled, so it is not marked seen
                .onException(OrderingDeferredException.class)
                    .handled(true)
                    .logHandled(false)
                    .logExhausted(false)
                    .useOriginalMessage()
                    .process(exchange -> {
                        OrderingDeferredException deferred =
                                exchange.getProperty(Exchange.EXCEPTION_CAUGHT, OrderingDeferredException.class);
                        exchange.getMessage().setHeader(OrderingDeferredException.SINCE_HEADER, deferred.since());
                        exchange.getMessage().setHeader(OrderingDeferredException.ARTEMIS_SCHEDULED_DELIVERY,
                                System.currentTimeMillis() + settings.getOrdering().getDeferDelay().toMillis());
                    })
                    .to("{{app.endpoints.inbound-publish}}")
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
    }
}
