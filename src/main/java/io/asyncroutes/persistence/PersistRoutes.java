package io.asyncroutes.persistence;

import io.asyncroutes.settings.AppSettings;
import io.asyncroutes.support.SharedRouteConfigurations;
import org.apache.camel.builder.RouteBuilder;

/**
 * The durable background write path.
 *
 * <ul>
 *   <li>{@code persist-handoff}: the wireTap target. Puts the result on the durable persist
 *   queue, batched with other threads' results ({@link HandoffBatcher}: one lane per thread, so one
 *   thread's saves stay in order), then tells {@code handle-message} the hand-off is done.</li>
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
        // one result per tap; the batcher publishes them in batches and completes each tap's hand-off
        // future once the broker has confirmed the batch holding it
        AppSettings.Persistence persistence = settings.getPersistence();
        from("direct:persist-handoff").routeId("persist-handoff")
                .errorHandler(noErrorHandler())
                .process(new HandoffBatcher(persistence.getHandoffLanes(), persistence.getHandoffBatchSize(),
                        "{{app.endpoints.persist-publish}}", settings.getOrdering().isVirtualThreads()));

        GroupCommitBatcher batcher = new GroupCommitBatcher(
                persistence.getBatchSize(), "direct:persist-batch", "direct:persist-one", "direct:dead-letter");
        from("{{app.endpoints.persist}}").routeId("persist-message")
                .routeConfigurationId(SharedRouteConfigurations.INTAKE)
                .process(ACKNOWLEDGEMENT)
                .process(batcher);

        from("direct:persist-batch").routeId("persist-batch")
                .routeConfigurationId(SharedRouteConfigurations.DATABASE)
                .to("sql:" + MessageSql.INSERT + "?batch=true&parametersCount=" + MessageSql.INSERT_PARAMETERS);

        from("direct:persist-one").routeId("persist-one")
                .routeConfigurationId(SharedRouteConfigurations.DATABASE)
                .to("sql:" + MessageSql.INSERT + "?parametersCount=" + MessageSql.INSERT_PARAMETERS);
    }
}
