package io.asyncroutes.ordering;

import io.asyncroutes.message.ExchangeProperties;
import io.asyncroutes.message.MessageResult;
import io.asyncroutes.settings.AppSettings;
import io.asyncroutes.support.ContextLifecycleNotifier;
import io.micrometer.core.instrument.MeterRegistry;
import org.apache.camel.Exchange;
import org.apache.camel.builder.RouteBuilder;
import org.apache.camel.support.service.ServiceHelper;

/**
 * {@code order-by-thread}: the per-thread ordering gate of {@code handle-message} (README
 * "Ordering"), a {@link KeyedResequencer} keyed by the {@link MessageResult}'s thread id and seq.
 * An exchange leaves this route holding its thread's turn and keeps it until it completes, so the
 * rest of {@code handle-message} (handling, persistence hand-off, result) runs one message per thread
 * at a time. A seq duplicate leaves with {@link Exchange#DUPLICATE_MESSAGE} set, a late predecessor
 * with {@link ExchangeProperties#ORDERING_LATE}.
 */
public class OrderingRoutes extends RouteBuilder {

    public static final String ROUTE_ID = "order-by-thread";

    private final KeyedResequencer resequencer;

    public OrderingRoutes(KeyedResequencer resequencer) {
        this.resequencer = resequencer;
    }

    /** The gate for {@code handle-message}: key and seq from the {@link MessageResult} body. */
    public static KeyedResequencer forMessageResults(AppSettings.Ordering settings, SeqStore store, MeterRegistry meters) {
        KeyedResequencer gate = new KeyedResequencer(
                exchange -> exchange.getMessage().getBody(MessageResult.class).getThreadId(),
                exchange -> exchange.getMessage().getBody(MessageResult.class).getSeq(),
                exchange -> exchange.getMessage().getBody(MessageResult.class).getId(),
                store, settings.getGapTimeout(), settings.getMaxConcurrency(), settings.getMaxPendingPerThread(),
                settings.getMaxPending(), meters);
        // queue consumers only parse and submit; handling runs on the gate's threads (virtual ones on JDK 21+),
        // up to maxConcurrency turns at once
        gate.setContinueOnPool(true);
        gate.setVirtualThreads(settings.isVirtualThreads());
        return gate;
    }

    @Override
    public void configure() throws Exception {
        // when the context begins to stop (before its consumers do), nothing waits in the gate any more:
        // a waiting message would skip a predecessor still on the broker (here, so that camel-main and Karaf get it too)
        ContextLifecycleNotifier stopping = new ContextLifecycleNotifier(camel -> { }, camel -> resequencer.closeForShutdown());
        getContext().getManagementStrategy().addEventNotifier(stopping);
        ServiceHelper.startService(stopping);
        from("direct:order-by-thread").routeId(ROUTE_ID)
                // errors (Redis down) surface to the caller, whose route configuration decides
                .errorHandler(noErrorHandler())
                .process(resequencer);
    }
}
