package io.asyncroutes.state;

import io.asyncroutes.pipeline.MessageResult;
import org.apache.camel.builder.RouteBuilder;

/**
 * Thread state in Redis. {@code append-history}: called by {@code handle-message} once a message
 * is processed; appends the user's turn to the thread history (capped, with TTL). Redis errors
 * propagate to the caller: the intake classifies them as transient, so the inbound message is
 * rolled back and redelivered once Redis is back (the append is idempotent by message id).
 */
public class StateRoutes extends RouteBuilder {

    private final ThreadHistory history;

    public StateRoutes(ThreadHistory history) {
        this.history = history;
    }

    @Override
    public void configure() {
        from("direct:append-history").routeId("append-history")
                .errorHandler(noErrorHandler())
                // a processor, not .bean(): the body (the result) must stay as it is for the caller
                .process(exchange -> {
                    MessageResult result = exchange.getMessage().getBody(MessageResult.class);
                    history.appendUserTurn(result);
                    history.appendReplyTurn(result);
                });
    }
}
