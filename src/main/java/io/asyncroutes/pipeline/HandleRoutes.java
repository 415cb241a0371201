package io.asyncroutes.pipeline;

import io.asyncroutes.intake.MessageValidator;
import io.asyncroutes.message.ExchangeProperties;
import io.asyncroutes.message.Headers;
import io.asyncroutes.message.MessageResult;
import io.asyncroutes.message.ThreadMessage;
import io.asyncroutes.persistence.HandoffException;
import io.asyncroutes.settings.AppSettings;
import io.asyncroutes.support.Json;
import io.asyncroutes.support.VirtualThreads;
import java.time.Instant;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.camel.AsyncCallback;
import org.apache.camel.Exchange;
import org.apache.camel.ExchangePattern;
import org.apache.camel.builder.RouteBuilder;
import org.apache.camel.spi.IdempotentRepository;
import org.apache.camel.spi.ThreadPoolProfile;
import org.apache.camel.support.AsyncProcessorSupport;
import org.apache.camel.support.service.ServiceSupport;

/**
 * {@code handle-message}: the seed's {@code handle_message} + {@code create_task(save_to_db)}.
 *
 * <p>Validates, skips duplicates (idempotent consumer on the message id), processes, hands the
 * result to persistence by wireTap and publishes it to the results queue. The wireTap is
 * fire-and-forget for latency (the database is not on this path), but not for safety: the tap's
 * only job is to put the result on the durable persist queue, and this route waits for that
 * hand-off before it completes. The inbound message is acknowledged only when the route
 * completes, so a tap lost in a crash or a {@code shutdownNow} leaves the inbound message
 * unacknowledged and the broker redelivers it.
 *
 * <p>Steps: {@code order-by-thread} (per-thread order, seq duplicates, late predecessors), the
 * idempotent consumer (id duplicates), {@code fetch-context} fills the result's {@code context}
 * from its {@code fetch} URLs (one entry per URL, errors included: a failed fetch does not fail the
 * message); a message that wants a reply gathers its inputs from all their sources at once, its
 * {@code fetch} URLs ({@code fetch-context}) and its thread history ({@code read-history}), with a
 * parallel multicast and {@link ReplyInputs}, then {@code chat-reply} asks the LLM;
 * {@code publish-result}, then {@code append-history} (history turns, idempotency key and ordering
 * state in one Redis write, after the hand-off is durable).
 */
public class HandleRoutes extends RouteBuilder {

    private final MessageValidator validator;
    private final IdempotentRepository idempotentRepository;
    private final AppSettings settings;

    public HandleRoutes(MessageValidator validator, IdempotentRepository idempotentRepository, AppSettings settings) {
        this.validator = validator;
        this.idempotentRepository = idempotentRepository;
        this.settings = settings;
    }

    @Override
    public void configure() throws Exception {
        // on virtual threads the tap (an enqueue to the hand-off batcher) starts a virtual thread, not a pool task
        ExecutorService tapThreads = null;
        if (settings.getOrdering().isVirtualThreads() && VirtualThreads.supported()) {
            ExecutorService threads = VirtualThreads.perTaskExecutor("ar-tap");
            getContext().addService(new ServiceSupport() {
                @Override
                protected void doStop() {
                    threads.shutdown();
                }
            });
            tapThreads = threads;
        }
        from("direct:handle-message").routeId("handle-message")
                // errors surface to the calling intake route, whose route configuration decides
                .errorHandler(noErrorHandler())
                .process(this::toResult)
                .process(exchange -> exchange.getMessage().setHeader(Headers.MESSAGE_ID, result(exchange).getId()))
                // per-thread order first: from here until the exchange completes (hand-off included) one
                // message per thread is in flight, so two copies of one id are never handled side by side
                .to("direct:order-by-thread")
                .choice()
                    .when(exchangeProperty(ExchangeProperties.ORDERING_SEQ_DUPLICATE).isEqualTo(true))
                        // a seq duplicate under a new id is recorded as such; a redelivered copy of a handled
                        // message (its ack lost with a broker connection) is an id duplicate: its row is the
                        // handled one, which may still be on its way to the database and must not lose to this
                        .process(exchange -> duplicate(exchange, !idempotentRepository.contains(result(exchange).getId())))
                        .to("direct:publish-result")
                    .otherwise()
                        .idempotentConsumer(header(Headers.MESSAGE_ID), idempotentRepository)
                            // the key is stored only when the exchange completes: a crash mid-way leaves
                            // the message redeliverable instead of "seen but never processed"
                            .eager(false)
                            .skipDuplicate(false)
                            .choice()
                                .when(exchangeProperty(Exchange.DUPLICATE_MESSAGE).isEqualTo(true))
                                    // an id duplicate already has its row
                                    .process(exchange -> duplicate(exchange, false))
                                    .to("direct:publish-result")
                                .otherwise()
                                    // handling proper: context from the fetch URLs, then the LLM reply if asked for
                                    .choice()
                                        .when(exchange -> result(exchange).isReplyRequested())
                                            // a reply needs several sources: gathered at once, not one after the other
                                            .multicast(new ReplyInputs()).parallelProcessing()
                                                .to("direct:fetch-context", "direct:read-history")
                                            .end()
                                            .to("direct:chat-reply")
                                        .endChoice()
                                        .when(exchange -> !result(exchange).getFetch().isEmpty())
                                            .to("direct:fetch-context")
                                    .end()
                                    .process(this::finish)
                                    .setProperty(ExchangeProperties.STORE_RESULT, constant(true))
                                    // publish-result leaves the body as JSON; append-history needs the result
                                    .setProperty(ExchangeProperties.RESULT, body())
                                    .to("direct:publish-result")
                                    // once the result is durable: its turns, its id and its thread's
                                    // ordering state in one Redis round trip
                                    .to("direct:append-history")
                            .end()
                        .end()
                .end();

        // the result to persistence by wireTap (when it is to be stored) and to the results queue; the
        // tap's hand-off to the durable persist queue is awaited, never the database
        from("direct:publish-result").routeId("publish-result")
                .errorHandler(noErrorHandler())
                .process(exchange -> exchange.getMessage().setHeader(Headers.JMS_GROUP, result(exchange).getThreadId()))
                .setBody(exchange -> Json.write(exchange.getMessage().getBody()))
                .choice()
                    .when(exchangeProperty(ExchangeProperties.STORE_RESULT).isEqualTo(true))
                        .process(exchange -> exchange.setProperty(ExchangeProperties.HANDOFF, new CompletableFuture<Void>()))
                        .wireTap("direct:persist-handoff").executorService(tapThreads)
                        .to(ExchangePattern.InOnly, "{{app.endpoints.results}}")
                        .process(new AwaitHandoff())
                    .endChoice()
                    .otherwise()
                        .to(ExchangePattern.InOnly, "{{app.endpoints.results}}")
                .end();
    }

    // typed accessors rather than simple-language OGNL: this runs for every message
    private static MessageResult result(Exchange exchange) {
        return exchange.getMessage().getBody(MessageResult.class);
    }

    private void duplicate(Exchange exchange, boolean store) {
        MessageResult result = exchange.getMessage().getBody(MessageResult.class);
        result.setStatus(MessageResult.DUPLICATE);
        exchange.setProperty(ExchangeProperties.STORE_RESULT, store);
        log.info("Duplicate message {} of thread {}: not processed again", result.getId(), result.getThreadId());
    }

    private void finish(Exchange exchange) {
        MessageResult result = exchange.getMessage().getBody(MessageResult.class);
        if (result.getStatus() == null) {
            result.setStatus(Boolean.TRUE.equals(exchange.getProperty(ExchangeProperties.ORDERING_LATE, Boolean.class))
                    ? MessageResult.LATE : MessageResult.PROCESSED);
        }
        result.setProcessedAt(Instant.now());
    }

    private void toResult(Exchange exchange) {
        Object body = exchange.getMessage().getBody();
        // bytes (JMS BytesMessage, AMQP) are strict UTF-8, as on the REST intake
        ThreadMessage message = validator.parse(body instanceof byte[] ? MessageValidator.utf8(body)
                : exchange.getMessage().getBody(String.class));
        Long receivedAt = exchange.getMessage().getHeader(Headers.RECEIVED_AT, Long.class);
        exchange.getMessage().setBody(MessageResult.of(message,
                receivedAt != null ? Instant.ofEpochMilli(receivedAt) : Instant.now()));
    }

    /**
     * Continues the exchange when its tap's hand-off is durable, without a thread waiting for it: the
     * hand-off is usually confirmed by then, and when it is not, the exchange resumes on a pool of
     * this route's, never on the hand-off publisher's thread. A virtual thread waits for it itself.
     */
    private final class AwaitHandoff extends AsyncProcessorSupport {
        private volatile ExecutorService continuations;

        @Override
        @SuppressWarnings("unchecked")
        public boolean process(Exchange exchange, AsyncCallback callback) {
            CompletableFuture<Void> handoff = exchange.getProperty(ExchangeProperties.HANDOFF, CompletableFuture.class);
            if (handoff.isDone()) {
                settle(exchange, handoff);
                callback.done(true);
                return true;
            }
            long timeoutMillis = settings.getPersistence().getHandoffTimeout().toMillis();
            if (VirtualThreads.current()) {
                // a virtual thread waits where it is: no hop through the continuation pool
                settle(exchange, handoff.orTimeout(timeoutMillis, TimeUnit.MILLISECONDS));
                callback.done(true);
                return true;
            }
            handoff.orTimeout(timeoutMillis, TimeUnit.MILLISECONDS).whenCompleteAsync((done, error) -> {
                settle(exchange, handoff);
                callback.done(false);
            }, continuations());
            return false;
        }

        private void settle(Exchange exchange, CompletableFuture<Void> handoff) {
            try {
                handoff.join();
            } catch (CompletionException | java.util.concurrent.CancellationException e) {
                Throwable cause = e.getCause() != null ? e.getCause() : e;
                exchange.setException(cause instanceof TimeoutException
                        ? new HandoffException("persistence hand-off not confirmed within "
                                + settings.getPersistence().getHandoffTimeout().toMillis() + " ms", cause)
                        : new HandoffException("persistence hand-off failed: " + cause, cause));
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
                        continuations = getContext().getExecutorServiceManager()
                                .newThreadPool(this, "ar-handoff-continuations", profile);
                    }
                }
            }
            return continuations;
        }
    }
}
