package io.asyncroutes.pipeline;

import io.asyncroutes.message.ExchangeProperties;
import io.asyncroutes.persistence.HandoffException;
import java.time.Duration;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.camel.AsyncCallback;
import org.apache.camel.CamelContext;
import org.apache.camel.Exchange;
import org.apache.camel.spi.ThreadPoolProfile;
import org.apache.camel.support.AsyncProcessorSupport;

/**
 * The last step of {@code publish-result}: continues the exchange once its result is durable twice
 * over, handed to persistence (the wireTap's future, {@link ExchangeProperties#HANDOFF}) and
 * confirmed by the results queue (when its producer left the confirm to await,
 * {@link ExchangeProperties#PUBLISH_CONFIRM}). No thread waits for either: usually both are done by
 * the time this runs, and when they are not the exchange resumes <em>once</em>, on a pool of its
 * own, never on a publisher's thread. Awaiting them one after the other cost every message a second
 * thread switch.
 */
public final class AwaitHandoff extends AsyncProcessorSupport {

    private final CamelContext camelContext;
    private final Duration timeout;
    private volatile ExecutorService continuations;

    /** @param timeout the longest the hand-off may take; the confirm is bounded by its publisher */
    public AwaitHandoff(CamelContext camelContext, Duration timeout) {
        this.camelContext = camelContext;
        this.timeout = timeout;
    }

    @Override
    @SuppressWarnings("unchecked")
    public boolean process(Exchange exchange, AsyncCallback callback) {
        CompletableFuture<Void> handoff = exchange.getProperty(ExchangeProperties.HANDOFF, CompletableFuture.class);
        CompletableFuture<Void> confirm = exchange.getProperty(ExchangeProperties.PUBLISH_CONFIRM, CompletableFuture.class);
        exchange.removeProperty(ExchangeProperties.PUBLISH_CONFIRM);
        if (handoff.isDone() && (confirm == null || confirm.isDone())) {
            settle(exchange, handoff, confirm);
            callback.done(true);
            return true;
        }
        handoff.orTimeout(timeout.toMillis(), TimeUnit.MILLISECONDS);
        CompletableFuture<Void> both = confirm == null ? handoff : CompletableFuture.allOf(handoff, confirm);
        both.whenCompleteAsync((done, error) -> {
            settle(exchange, handoff, confirm);
            callback.done(false);
        }, continuations());
        return false;
    }

    private void settle(Exchange exchange, CompletableFuture<Void> handoff, CompletableFuture<Void> confirm) {
        // the results queue's own error first, as when the producer awaited its confirm itself
        Throwable refused = failure(confirm);
        if (refused != null) {
            exchange.setException(refused);
            return;
        }
        Throwable lost = failure(handoff);
        if (lost != null) {
            exchange.setException(lost instanceof TimeoutException
                    ? new HandoffException("persistence hand-off not confirmed within " + timeout.toMillis() + " ms", lost)
                    : new HandoffException("persistence hand-off failed: " + lost, lost));
        }
    }

    private static Throwable failure(CompletableFuture<Void> future) {
        if (future == null) {
            return null;
        }
        try {
            future.join();
            return null;
        } catch (CompletionException | CancellationException e) {
            return e.getCause() != null ? e.getCause() : e;
        }
    }

    private ExecutorService continuations() {
        if (continuations == null) {
            synchronized (this) {
                if (continuations == null) {
                    ThreadPoolProfile profile = new ThreadPoolProfile("ar-handoff-continuations");
                    profile.setPoolSize(16);
                    profile.setMaxPoolSize(16);
                    profile.setMaxQueueSize(-1);
                    continuations = camelContext.getExecutorServiceManager()
                            .newThreadPool(this, "ar-handoff-continuations", profile);
                }
            }
        }
        return continuations;
    }
}
