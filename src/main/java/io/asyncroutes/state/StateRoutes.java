package io.asyncroutes.state;

import org.apache.camel.builder.RouteBuilder;

/**
 * Thread state in Redis. {@code append-history}: called by {@code handle-message} once a message is
 * processed and its result durably handed to persistence; appends its turns to the thread history
 * (capped, with TTL) together with its idempotency key and its thread's ordering state, in one round
 * trip ({@link HandledRecord}). Redis errors propagate to the caller: the intake classifies them as
 * transient, so the inbound message is rolled back and redelivered once Redis is back (nothing of
 * the record was written, so it is handled again).
 */
public class StateRoutes extends RouteBuilder {

    private final HandledRecord record;

    public StateRoutes(HandledRecord record) {
        this.record = record;
    }

    @Override
    public void configure() {
        from("direct:append-history").routeId("append-history")
                .errorHandler(noErrorHandler())
                // a processor, not .bean(): the body (the result) must stay as it is for the caller
                .process(record::record);
    }
}
