package io.asyncroutes.support;

import java.util.function.Consumer;
import org.apache.camel.CamelContext;
import org.apache.camel.spi.CamelEvent;
import org.apache.camel.support.EventNotifierSupport;

/**
 * Runs a task when the Camel context has started and another when it begins to stop, and asks for
 * no other event. Camel builds an event object at every step of every exchange (sending, sent,
 * created, completed) as long as <em>one</em> notifier does not declare that it ignores exchange
 * events, so a notifier that only wants the context's lifecycle says so.
 */
public class ContextLifecycleNotifier extends EventNotifierSupport {

    private final Consumer<CamelContext> onStarted;
    private final Consumer<CamelContext> onStopping;

    public ContextLifecycleNotifier(Consumer<CamelContext> onStarted, Consumer<CamelContext> onStopping) {
        this.onStarted = onStarted;
        this.onStopping = onStopping;
        setIgnoreExchangeEvents(true);
        setIgnoreRouteEvents(true);
        setIgnoreServiceEvents(true);
        setIgnoreStepEvents(true);
    }

    @Override
    public boolean isEnabled(CamelEvent event) {
        return event instanceof CamelEvent.CamelContextStartedEvent || event instanceof CamelEvent.CamelContextStoppingEvent;
    }

    @Override
    public void notify(CamelEvent event) {
        CamelContext context = ((CamelEvent.CamelContextEvent) event).getContext();
        if (event instanceof CamelEvent.CamelContextStartedEvent) {
            onStarted.accept(context);
        } else {
            onStopping.accept(context);
        }
    }
}
