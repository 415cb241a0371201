package io.asyncroutes.ordering;

import io.asyncroutes.message.ExchangeProperties;
import io.asyncroutes.message.Headers;
import io.asyncroutes.support.DaemonThreads;
import io.asyncroutes.support.VirtualThreads;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.apache.camel.AsyncCallback;
import org.apache.camel.Exchange;
import org.apache.camel.support.AsyncProcessorSupport;
import org.apache.camel.support.SynchronizationAdapter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A resequencer keyed by thread id, used as a <em>gate</em> inside a route: the thin Camel processor
 * over {@link ThreadOrderingEngine}, which holds all the ordering logic.
 *
 * <p>An exchange passes the gate when it holds its thread's turn and keeps the turn until the exchange
 * completes (its unit of work is done, successful or not): everything after the gate, the persistence
 * hand-off included, runs with at most one message of the thread in flight. An early message waits
 * inside the gate asynchronously: {@link #process} returns {@code false}, so an asynchronous consumer
 * goes on reading the queue (its predecessor is usually right behind it) while nothing is re-enqueued.
 *
 * <p>A seq duplicate leaves at once with {@link Exchange#DUPLICATE_MESSAGE} and {@link ExchangeProperties#ORDERING_SEQ_DUPLICATE}
 * set; a late predecessor (its gap was skipped before it came) passes with {@link ExchangeProperties#ORDERING_LATE} set.
 *
 * <p>A released exchange continues on this gate's own pool, never on the thread that ended the
 * previous turn, unless {@link #setReleaseOnEndingThread} says so.
 */
public class KeyedResequencer extends AsyncProcessorSupport {

    private static final Logger LOG = LoggerFactory.getLogger(KeyedResequencer.class);

    private final Function<Exchange, String> keyOf;
    private final Function<Exchange, Long> seqOf;
    private final Function<Exchange, String> idOf;
    private final ThreadOrderingEngine engine;

    private volatile boolean releaseOnEndingThread;
    private volatile boolean continueOnPool;
    private volatile ScheduledExecutorService timer;
    private volatile boolean virtualThreads;
    private volatile ExecutorService releasePool;

    public KeyedResequencer(Function<Exchange, String> keyOf, Function<Exchange, Long> seqOf,
                            SeqStore store, Duration gapTimeout, int maxConcurrency, int maxPendingPerThread,
                            int maxPending, MeterRegistry meters) {
        this(keyOf, seqOf, exchange -> null, store, gapTimeout, maxConcurrency, maxPendingPerThread, maxPending, meters);
    }

    /**
     * @param idOf the message id, so a redelivered copy of a message still inside the gate is
     *             recognised as such rather than as a seq duplicate
     */
    public KeyedResequencer(Function<Exchange, String> keyOf, Function<Exchange, Long> seqOf,
                            Function<Exchange, String> idOf,
                            SeqStore store, Duration gapTimeout, int maxConcurrency, int maxPendingPerThread,
                            int maxPending, MeterRegistry meters) {
        this.keyOf = keyOf;
        this.seqOf = seqOf;
        this.idOf = idOf;
        Counter gapsSkipped = Counter.builder("ar.ordering.gaps.skipped")
                .description("seq gaps skipped after the gap timeout").register(meters);
        Counter seqsSkipped = Counter.builder("ar.ordering.seqs.skipped")
                .description("missing seq numbers given up on").register(meters);
        Counter duplicates = Counter.builder("ar.ordering.duplicates")
                .description("messages whose seq is at or below the last handled one").register(meters);
        Counter late = Counter.builder("ar.ordering.late")
                .description("predecessors handled after their gap was skipped").register(meters);
        this.engine = new ThreadOrderingEngine(store, gapTimeout, maxConcurrency, maxPendingPerThread, maxPending,
                new ThreadOrderingEngine.Listener() {
                    @Override
                    public void gapSkipped(String key, long from, long to) {
                        gapsSkipped.increment();
                        seqsSkipped.increment(to - from + 1);
                    }

                    @Override
                    public void duplicate(String key, long seq) {
                        duplicates.increment();
                    }

                    @Override
                    public void late(String key, long seq) {
                        late.increment();
                        LOG.warn("Thread {}: seq {} arrived after its gap was skipped; handled late", key, seq);
                    }
                });
        Gauge.builder("ar.ordering.threads", engine, ThreadOrderingEngine::activeThreads)
                .description("threads with a message in flight or waiting").register(meters);
        Gauge.builder("ar.ordering.pending", engine, ThreadOrderingEngine::pendingMessages)
                .description("messages in flight or waiting in the ordering gate").register(meters);
    }

    @Override
    public boolean process(Exchange exchange, AsyncCallback callback) {
        if (Boolean.TRUE.equals(exchange.getProperty(Exchange.DUPLICATE_MESSAGE, Boolean.class))
                || exchange.getProperty(ExchangeProperties.ORDERING_GATED) != null) {
            callback.done(true); // already a duplicate by id, or already holding a turn
            return true;
        }
        String key = keyOf.apply(exchange);
        if (key == null) {
            exchange.setException(new IllegalArgumentException("order-by-thread: no thread id"));
            callback.done(true);
            return true;
        }
        ThreadOrderingEngine.Ticket ticket;
        try {
            ticket = engine.submit(key, seqOf.apply(exchange), idOf.apply(exchange), released -> {
                if (released.error() == null) {
                    admit(exchange, released);
                } else {
                    exchange.setException(released.error());
                }
                callback.done(false);
            });
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            exchange.setException(e);
            callback.done(true);
            return true;
        } catch (RuntimeException e) {
            exchange.setException(e); // state store down: transient, the message is redelivered later
            callback.done(true);
            return true;
        }
        if (ticket.isReady()) {
            admit(exchange, ticket);
            ExecutorService pool = releasePool;
            if (continueOnPool && ticket.holdsTurn() && pool != null) {
                // the caller (a queue consumer) goes back to reading while this message is handled
                pool.execute(() -> callback.done(false));
                return false;
            }
            callback.done(true);
            return true;
        }
        return false;
    }

    private void admit(Exchange exchange, ThreadOrderingEngine.Ticket ticket) {
        switch (ticket.verdict()) {
            case DUPLICATE -> {
                exchange.setProperty(Exchange.DUPLICATE_MESSAGE, Boolean.TRUE);
                exchange.setProperty(ExchangeProperties.ORDERING_SEQ_DUPLICATE, Boolean.TRUE);
            }
            case LATE -> exchange.setProperty(ExchangeProperties.ORDERING_LATE, Boolean.TRUE);
            case IN_ORDER -> {
            }
        }
        if (ticket.holdsTurn()) {
            exchange.setProperty(ExchangeProperties.ORDERING_GATED, Boolean.TRUE);
            exchange.setProperty(ExchangeProperties.ORDERING_TURN, ticket);
            exchange.getExchangeExtension().addOnCompletion(new TurnEnd(ticket));
        }
        if (exchange.getProperty(ExchangeProperties.STILL_OWNED) instanceof java.util.function.BooleanSupplier owned
                && !owned.getAsBoolean()) {
            // its source moved to another instance while it waited (a Kafka rebalance): the new owner
            // handles its copy, so this one stops here, its turn ending as not handled
            LOG.debug("Thread {}: a message whose partition moved away is dropped, its new owner handles it", keyOf.apply(exchange));
            exchange.setRollbackOnly(true);
        }
    }

    /** Ends the turn when the exchange's unit of work is done, successful or not. */
    private final class TurnEnd extends SynchronizationAdapter {
        private final ThreadOrderingEngine.Ticket ticket;

        TurnEnd(ThreadOrderingEngine.Ticket ticket) {
            this.ticket = ticket;
        }

        @Override
        public boolean allowHandover() {
            return false; // the turn belongs to this exchange, not to a copy sent on (seda, ...)
        }

        @Override
        public void onDone(Exchange exchange) {
            engine.end(ticket, !exchange.isFailed() && !exchange.isRollbackOnly()
                    && !Boolean.TRUE.equals(exchange.getProperty(ExchangeProperties.ORDERING_SEQ_DUPLICATE, Boolean.class)));
        }
    }

    /** The turn an exchange holds (null if it holds none): its thread's state once handled, see {@link ThreadOrderingEngine.Ticket#stateIfHandled}. */
    public static ThreadOrderingEngine.Ticket turnOf(Exchange exchange) {
        return exchange.getProperty(ExchangeProperties.ORDERING_TURN, ThreadOrderingEngine.Ticket.class);
    }

    /** See {@link ThreadOrderingEngine#handBackWaiting}: the intake's broker connection dropped. */
    public int handBackWaiting() {
        return engine.handBackWaiting();
    }

    /** See {@link ThreadOrderingEngine#closeForShutdown}: the application stops, its intake consumers first. */
    public int closeForShutdown() {
        return engine.closeForShutdown();
    }

    /** See {@link ThreadOrderingEngine#setRedeliveryHold}: successors wait this long for a failed message's redelivery. */
    public void setRedeliveryHold(Duration hold) {
        engine.setRedeliveryHold(hold);
    }

    /** Drops idle thread entries (normally already gone when their last turn ended); for the periodic cleanup. */
    public int evictIdle(Instant now) {
        return engine.evictIdle(now);
    }

    /** Threads with a message in flight or waiting. */
    public int activeThreads() {
        return engine.activeThreads();
    }

    /** Messages in flight or waiting. */
    public int pendingMessages() {
        return engine.pendingMessages();
    }

    public int getMaxConcurrency() {
        return engine.maxConcurrency();
    }

    /**
     * Continue a released exchange on the thread that ended the previous turn instead of the gate's
     * pool: saves a thread hop per message, but only for fully asynchronous pipelines. Off by default:
     * the ending thread may be a broker's or a database writer's.
     */
    public void setReleaseOnEndingThread(boolean releaseOnEndingThread) {
        this.releaseOnEndingThread = releaseOnEndingThread;
    }

    /**
     * Continue even a message admitted at once on the gate's pool, not on the caller's thread: a queue
     * consumer then only parses and submits, and as many threads are handled at once as
     * {@code maxConcurrency} allows, whatever the number of consumers. Off by default (tests,
     * benchmarks of the gate alone); on in the application.
     */
    public void setContinueOnPool(boolean continueOnPool) {
        this.continueOnPool = continueOnPool;
    }

    /**
     * Run each turn on a virtual thread of its own (JDK 21+; ignored where the runtime has none) rather
     * than on a pool of {@code maxConcurrency} platform threads: what the turn waits for (Redis, the
     * broker's confirms, the persistence hand-off) is then waited for on that thread, see
     * {@link VirtualThreads}. The engine still bounds the turns in flight to {@code maxConcurrency}.
     */
    public void setVirtualThreads(boolean virtualThreads) {
        this.virtualThreads = virtualThreads;
    }

    /** True when turns run on virtual threads (asked for, and the runtime has them). */
    public boolean usesVirtualThreads() {
        return virtualThreads && VirtualThreads.supported();
    }

    @Override
    protected void doStart() {
        if (timer == null) {
            timer = Executors.newSingleThreadScheduledExecutor(DaemonThreads.named("ar-ordering-gap"));
        }
        if (releasePool == null && usesVirtualThreads()) {
            releasePool = VirtualThreads.perTaskExecutor("ar-ordering");
        }
        if (releasePool == null) {
            // at most maxConcurrency turns run at once, so the queue never holds more than that
            int size = engine.maxConcurrency();
            ThreadPoolExecutor pool = new ThreadPoolExecutor(size, size, 30, TimeUnit.SECONDS,
                    new LinkedBlockingQueue<>(), DaemonThreads.named("ar-ordering"));
            pool.allowCoreThreadTimeOut(true);
            releasePool = pool;
        }
        engine.start(timer, command -> {
            ExecutorService pool = releasePool;
            if (releaseOnEndingThread || pool == null) {
                command.run();
            } else {
                pool.execute(command);
            }
        });
    }

    @Override
    protected void doStop() {
        // whatever still waits is failed, so its broker message is rolled back and redelivered
        engine.stop();
        if (timer != null) {
            timer.shutdownNow();
            timer = null;
        }
        if (releasePool != null) {
            releasePool.shutdown();
            releasePool = null;
        }
    }
}
