package io.asyncroutes.persistence;

import io.asyncroutes.config.AppSettings;
import io.asyncroutes.support.Headers;
import io.asyncroutes.support.SharedRouteConfigurations;
import java.util.concurrent.CompletableFuture;
import org.apache.camel.Exchange;
import org.apache.camel.ExchangePattern;
import org.apache.camel.builder.RouteBuilder;

/**
 * The durable background write path.
 *
 * <ul>
 *   <li>{@code persist-handoff}: the wireTap target. Puts the result on the durable persist
 *   queue, grouped by thread id, then tells {@code handle-message} the hand-off is done.</li>
 *   <li>{@code persist-message}: drains the persist queue through a {@link GroupCommitBatcher};
 *   a message is acknowledged once its row is committed.</li>
 *   <li>{@code persist-batch} / {@code persist-one}: the JDBC writes, retried while the database
 *   is unreachable (route configuration {@value SharedRouteConfigurations#DATABASE}); a row that
 *   can never be written is dead-lettered with the reason.</li>
 * </ul>
 */
public class PersistRoutes extends RouteBuilder {

    /** Registry name of the {@code intake.InboundAcknowledgement} shared with the intake route. */
    public static final String ACKNOWLEDGEMENT = "brokerAcknowledgement";

    private final AppSettings settings;

    public PersistRoutes(AppSettings settings) {
        this.settings = settings;
    }

    @Override
    public void configure() {
        from("direct:persist-handoff").routeId("persist-handoff")
                .errorHandler(noErrorHandler())
                // RabbitMQ: the thread id picks the persist partition (JMS uses JMSXGroupID instead)
                .setHeader(Headers.RABBIT_ROUTING_KEY, header(Headers.JMS_GROUP))
                .doTry()
                    .to(ExchangePattern.InOnly, "{{app.endpoints.persist-publish}}")
                    .process(exchange -> handoff(exchange).complete(null))
                .doCatch(Exception.class)
                    .process(exchange -> handoff(exchange).completeExceptionally(
                            exchange.getProperty(Exchange.EXCEPTION_CAUGHT, Exception.class)))
                .end();

        GroupCommitBatcher batcher = new GroupCommitBatcher(
                settings.getPersistence().getBatchSize(), "direct:persist-batch", "direct:persist-one", "direct:dead-letter");
        from("{{app.endpoints.persist}}").routeId("persist-message")
                .routeConfigurationId(SharedRouteConfigurations.INTAKE)
                .process(ACKNOWLEDGEMENT)
                .process(batcher);

        from("direct:persist-batch").routeId("persist-batch")
                .routeConfigurationId(SharedRouteConfigurations.DATABASE)
                .to("sql:" + MessageSql.INSERT + "?batch=true");

        from("direct:persist-one").routeId("persist-one")
                .routeConfigurationId(SharedRouteConfigurations.DATABASE)
                .to("sql:" + MessageSql.INSERT);
    }

    @SuppressWarnings("unchecked")
    private static CompletableFuture<Void> handoff(Exchange exchange) {
        return exchange.getProperty(Headers.HANDOFF, CompletableFuture.class);
    }
}
