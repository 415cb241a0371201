package io.asyncroutes.ordering;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.function.Predicate;
import org.apache.camel.AsyncCallback;
import org.apache.camel.Exchange;
import org.apache.camel.support.AsyncProcessorSupport;
import org.apache.camel.support.SynchronizationAdapter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A resequencer keyed by thread id: the Camel answer to the seed's per-thread {@code asyncio.Lock}
 * dict, without its unbounded growth. Camel's own Resequencer has one sequence space and one delivery
 * thread, so this is a small EIP of its own, used as a <em>gate</em> inside a route:
 *
 * <ul>
 *   <li>An exchange passes the gate when it holds its thread's <em>turn</em>, and keeps the turn until
 *   the exchange completes (its unit of work is done): everything after the gate in the route, the
 *   persistence hand-off included, runs with at most one message of the thread in flight.</li>
 *   <li>With a seq, turns go in ascending seq. An early arrival waits (asynchronously, no thread
 *   parked in the gate) until its predecessor is done or until the gap timeout since it was received
 *   passes; then the gap is skipped with a WARN and the {@code ar.ordering.gaps.skipped} counter. A
 *   seq at or below the last handled one is a duplicate: it passes at once, marked with
 *   {@link Exchange#DUPLICATE_MESSAGE}, and is not handled. Without a seq: arrival order.</li>
 *   <li>Threads run in parallel up to {@code maxConcurrency} turns; one slow thread holds only its own
 *   turn. Waiting messages are bounded per thread and in total; above the bound the <em>caller</em>
 *   blocks (back-pressure), nothing is dropped.</li>
 *   <li>The map holds only threads with a message in flight or waiting: the entry is removed when its
 *   last turn ends. The last handled seq lives in the {@link SeqStore} (Redis), read when a thread's
 *   entry is created. Memory is bounded by the work in progress, not by the number of thread ids.</li>
 * </ul>
 *
 * <p>A released exchange continues on this gate's own pool (never on the thread that ended the
 * previous turn), so one thread's handling never runs inside another's completion.
 *
 * <p>Synchronous transacted consumers (JMS with message groups) are special: the predecessor of an
 * early message usually sits behind it on the same consumer, so waiting would only block until the
 * gap timeout. For exchanges matching {@code deferInsteadOfWait}, an early message whose predecessor
 * is neither in flight nor waiting here fails with {@link OrderingDeferredException}; the intake puts
 * it back on the queue with a short delay. Once the gap timeout since its first deferral has passed,
 * it is let in and the gap is skipped.
 */
public class KeyedResequencer extends AsyncProcessorSupport {

    private static final Logger LOG = LoggerFactory.getLogger(KeyedResequencer.class);
    /** Exchange property set on exchanges that went through the gate (guards against gating twice). */
    public static final String GATED = "arOrderingGated";
    /** Exchange property set on a seq duplicate, beside {@link Exchange#DUPLICATE_MESSAGE}. */
    public static final String SEQ_DUPLICATE = "arOrderingSeqDuplicate";

    private final Function<Exchange, String> keyOf;
    private final Function<Exchange, Long> seqOf;
    private final Predicate<Exchange> deferInsteadOfWait;
    private final SeqStore store;
    private final long gapTimeoutNanos;
    private final int maxConcurrency;
    private final int maxPendingPerThread;

    private final ConcurrentHashMap<String, ThreadState> states = new ConcurrentHashMap<>();
    /** Turns granted but waiting for a concurrency slot. */
    private final ConcurrentLinkedQueue<Waiter> ready = new ConcurrentLinkedQueue<>();
    private final Semaphore concurrency;
    /** Messages inside the gate (waiting or in flight), all threads together. */
    private final Semaphore capacity;
    private final AtomicInteger pending = new AtomicInteger();

    private final Counter gapsSkipped;
    private final Counter seqsSkipped;
    private final Counter duplicates;
    private final Counter deferred;

    private volatile boolean releaseOnEndingThread;
    private volatile ScheduledExecutorService timer;
    private volatile ThreadPoolExecutor releasePool;

    public KeyedResequencer(Function<Exchange, String> keyOf, Function<Exchange, Long> seqOf,
                            Predicate<Exchange> deferInsteadOfWait,
                            SeqStore store, Duration gapTimeout, int maxConcurrency, int maxPendingPerThread,
                            int maxPending, MeterRegistry meters) {
        this.keyOf = keyOf;
        this.seqOf = seqOf;
        this.deferInsteadOfWait = deferInsteadOfWait;
        this.store = store;
        this.gapTimeoutNanos = gapTimeout.toNanos();
        this.maxConcurrency = maxConcurrency;
        this.maxPendingPerThread = maxPendingPerThread;
        this.concurrency = new Semaphore(maxConcurrency);
        this.capacity = new Semaphore(maxPending);
        this.gapsSkipped = Counter.builder("ar.ordering.gaps.skipped")
                .description("seq gaps skipped after the gap timeout").register(meters);
        this.seqsSkipped = Counter.builder("ar.ordering.seqs.skipped")
                .description("missing seq numbers given up on").register(meters);
        this.duplicates = Counter.builder("ar.ordering.duplicates")
                .description("messages whose seq is at or below the last handled one").register(meters);
        this.deferred = Counter.builder("ar.ordering.deferred")
                .description("early messages rolled back for later redelivery").register(meters);
        Gauge.builder("ar.ordering.threads", states, Map::size)
                .description("threads with a message in flight or waiting").register(meters);
        Gauge.builder("ar.ordering.pending", pending, AtomicInteger::get)
                .description("messages in flight or waiting in the ordering gate").register(meters);
    }

    // ---------------------------------------------------------------- arrival

    @Override
    public boolean process(Exchange exchange, AsyncCallback callback) {
        if (Boolean.TRUE.equals(exchange.getProperty(Exchange.DUPLICATE_MESSAGE, Boolean.class))
                || exchange.getProperty(GATED) != null) {
            callback.done(true); // already a duplicate by id, or already holding a turn
            return true;
        }
        String key = keyOf.apply(exchange);
        Long seq = seqOf.apply(exchange);
        if (key == null) {
            exchange.setException(new IllegalArgumentException("order-by-thread: no thread id"));
            callback.done(true);
            return true;
        }
        Waiter waiter = new Waiter(key, seq, exchange, callback, System.nanoTime());
        // back-pressure: the caller waits while the gate is full, unless this message is what its
        // thread waits for (blocking it would leave its successors stuck until the gap timeout)
        if (!capacity.tryAcquire()) {
            if (unblocksItsThread(key, seq)) {
                waiter.overCapacity = true;
            } else {
                try {
                    capacity.acquire();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    exchange.setException(e);
                    callback.done(true);
                    return true;
                }
            }
        }
        Waiter next;
        while (true) {
            ThreadState state = states.computeIfAbsent(key, ThreadState::new);
            synchronized (state) {
                if (state.removed) {
                    continue; // lost a race with eviction: take the fresh entry
                }
                while (state.pendingCount() >= maxPendingPerThread && !state.removed && !state.waitsFor(seq)) {
                    state.blockedArrivals++;
                    try {
                        state.wait(); // back-pressure per thread
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        state.blockedArrivals--;
                        return refuse(state, waiter, e);
                    }
                    state.blockedArrivals--;
                }
                if (state.removed) {
                    continue;
                }
                waiter.state = state;
                if (seq != null) {
                    if (state.lastSeq < 0) {
                        try {
                            state.lastSeq = store.load(key);
                        } catch (RuntimeException e) {
                            return refuse(state, waiter, e); // Redis down: transient, redelivered later
                        }
                    }
                    if (seq <= state.lastSeq || (state.bySeq != null && state.bySeq.containsKey(seq))) {
                        markDuplicate(waiter);
                        evictIfIdle(state);
                        releaseCapacity(waiter);
                        callback.done(true);
                        return true;
                    }
                    if (deferInsteadOfWait.test(exchange) && seq > state.lastSeq + 1
                            && !state.holdsOrAwaits(seq - 1)) {
                        // the first deferral's time travels with the message, so the gap timeout
                        // spans its re-deliveries without any state kept here
                        Long since = exchange.getMessage().getHeader(OrderingDeferredException.SINCE_HEADER, Long.class);
                        long now = System.currentTimeMillis();
                        long first = since != null ? since : now;
                        if (now - first < TimeUnit.NANOSECONDS.toMillis(gapTimeoutNanos)) {
                            deferred.increment();
                            LOG.debug("Thread {}: seq {} is early (last handled {}), deferred", key, seq, state.lastSeq);
                            return refuse(state, waiter, new OrderingDeferredException("thread " + key + ": seq " + seq
                                    + " is early (last handled " + state.lastSeq + ")", first, key));
                        }
                        waiter.receivedNanos = System.nanoTime() - gapTimeoutNanos; // waited long enough already
                    }
                    if (state.bySeq == null) {
                        state.bySeq = new TreeMap<>();
                    }
                    state.bySeq.put(seq, waiter);
                } else {
                    if (state.unsequenced == null) {
                        state.unsequenced = new ArrayDeque<>(2);
                    }
                    state.unsequenced.add(waiter);
                }
                pending.incrementAndGet();
                next = pickNext(state);
            }
            break;
        }
        if (next == waiter) {
            if (grant(next, true)) {
                callback.done(true);
                return true;
            }
            return false;
        }
        if (next != null) {
            grant(next, false);
        }
        return false;
    }

    private boolean refuse(ThreadState state, Waiter waiter, Exception error) {
        evictIfIdle(state);
        releaseCapacity(waiter);
        waiter.exchange.setException(error);
        waiter.callback.done(true);
        return true;
    }

    private void releaseCapacity(Waiter waiter) {
        if (!waiter.overCapacity) {
            capacity.release();
        }
    }

    /** Whether the thread has messages waiting for a seq lower than theirs, i.e. for this one. */
    private boolean unblocksItsThread(String key, Long seq) {
        ThreadState state = states.get(key);
        if (state == null) {
            return false;
        }
        synchronized (state) {
            return state.waitsFor(seq);
        }
    }

    // ---------------------------------------------------------------- turns

    /** Under the state's lock: the waiter that gets the thread's turn now, or null. */
    private Waiter pickNext(ThreadState state) {
        if (state.busy) {
            return null;
        }
        Waiter next = null;
        if (state.bySeq != null && !state.bySeq.isEmpty()) {
            Map.Entry<Long, Waiter> head = state.bySeq.firstEntry();
            long seq = head.getKey();
            long waitedNanos = System.nanoTime() - head.getValue().receivedNanos;
            if (seq <= state.lastSeq + 1) {
                next = head.getValue(); // in order, or a duplicate found at release
            } else if (waitedNanos >= gapTimeoutNanos) {
                long missing = seq - state.lastSeq - 1;
                LOG.warn("Thread {}: seq {}..{} missing after {} ms, skipped; handling seq {}",
                        state.key, state.lastSeq + 1, seq - 1, TimeUnit.NANOSECONDS.toMillis(gapTimeoutNanos), seq);
                gapsSkipped.increment();
                seqsSkipped.increment(missing);
                next = head.getValue();
            } else if (state.gapTimer == null && timer != null) {
                state.gapTimer = timer.schedule(() -> onGapTimer(state), gapTimeoutNanos - waitedNanos,
                        TimeUnit.NANOSECONDS);
            }
            if (next != null) {
                state.bySeq.pollFirstEntry();
            }
        }
        if (next == null && state.unsequenced != null && !state.unsequenced.isEmpty()) {
            next = state.unsequenced.poll();
        }
        if (next != null) {
            if (state.gapTimer != null) {
                state.gapTimer.cancel(false);
                state.gapTimer = null;
            }
            state.busy = true;
            state.current = next;
            if (next.seq != null && next.seq <= state.lastSeq) {
                markDuplicate(next);
            }
            if (state.blockedArrivals > 0) {
                state.notifyAll();
            }
        }
        return next;
    }

    private void onGapTimer(ThreadState state) {
        Waiter next;
        synchronized (state) {
            state.gapTimer = null;
            next = pickNext(state);
        }
        if (next != null) {
            grant(next, false);
        }
    }

    /** Starts the turn if a concurrency slot is free, else queues it; true if started inline. */
    private boolean grant(Waiter waiter, boolean inline) {
        if (concurrency.tryAcquire()) {
            start(waiter, inline);
            return inline;
        }
        ready.add(waiter);
        drainReady();
        return false;
    }

    private void drainReady() {
        while (!ready.isEmpty() && concurrency.tryAcquire()) {
            Waiter waiter = ready.poll();
            if (waiter == null) {
                concurrency.release();
                return;
            }
            start(waiter, false);
        }
    }

    private void start(Waiter waiter, boolean inline) {
        Exchange exchange = waiter.exchange;
        exchange.setProperty(GATED, Boolean.TRUE);
        exchange.getExchangeExtension().addOnCompletion(new TurnEnd(waiter));
        if (!inline && releaseOnEndingThread) {
            waiter.callback.done(false);
        } else if (!inline) {
            ThreadPoolExecutor pool = releasePool;
            if (pool == null) {
                exchange.setException(new IllegalStateException("order-by-thread is stopped"));
                waiter.callback.done(false);
                return;
            }
            pool.execute(() -> waiter.callback.done(false));
        }
    }

    /** Ends the turn when the exchange's unit of work is done, successful or not. */
    private final class TurnEnd extends SynchronizationAdapter {
        private final Waiter waiter;

        TurnEnd(Waiter waiter) {
            this.waiter = waiter;
        }

        @Override
        public boolean allowHandover() {
            return false; // the turn belongs to this exchange, not to a copy sent on (seda, ...)
        }

        @Override
        public void onDone(Exchange exchange) {
            endTurn(waiter, !exchange.isFailed() && !exchange.isRollbackOnly());
        }
    }

    private void endTurn(Waiter waiter, boolean success) {
        ThreadState state = waiter.state;
        boolean handled = success && waiter.seq != null && !waiter.duplicate;
        if (handled) {
            try {
                store.save(state.key, waiter.seq); // before the next turn, so the writes stay in order
            } catch (RuntimeException e) {
                LOG.warn("Thread {}: could not record last handled seq {}: {}", state.key, waiter.seq, e.toString());
            }
        }
        Waiter next;
        synchronized (state) {
            state.busy = false;
            state.current = null;
            if (handled && waiter.seq > state.lastSeq) {
                state.lastSeq = waiter.seq;
            }
            pending.decrementAndGet();
            next = pickNext(state);
            if (next == null) {
                evictIfIdle(state);
            }
        }
        releaseCapacity(waiter);
        concurrency.release();
        if (next != null) {
            grant(next, false);
        }
        drainReady();
    }

    private void markDuplicate(Waiter waiter) {
        waiter.duplicate = true;
        duplicates.increment();
        waiter.exchange.setProperty(Exchange.DUPLICATE_MESSAGE, Boolean.TRUE);
        waiter.exchange.setProperty(SEQ_DUPLICATE, Boolean.TRUE);
    }

    /** Under the state's lock: drops the entry of a thread with nothing in flight or waiting. */
    private void evictIfIdle(ThreadState state) {
        if (state.isIdle()) {
            state.removed = true;
            states.remove(state.key, state);
        }
    }

    // ---------------------------------------------------------------- housekeeping

    /**
     * Drops the entries of idle threads (normally already gone when their last turn ended) and
     * returns how many. For the periodic cleanup.
     */
    public int evictIdle(Instant now) {
        int evicted = 0;
        for (ThreadState state : states.values()) {
            synchronized (state) {
                if (!state.removed && state.isIdle()) {
                    evictIfIdle(state);
                    evicted++;
                }
            }
        }
        return evicted;
    }

    /** Threads with a message in flight or waiting. */
    public int activeThreads() {
        return states.size();
    }

    /** Messages in flight or waiting. */
    public int pendingMessages() {
        return pending.get();
    }

    /**
     * Continue a released exchange on the thread that ended the previous turn instead of the gate's
     * pool: saves a thread hop per message, but only for fully asynchronous pipelines. Off by
     * default, and must stay off behind a synchronous consumer (JMS), whose thread would otherwise
     * run the next message before its own transaction commits.
     */
    public void setReleaseOnEndingThread(boolean releaseOnEndingThread) {
        this.releaseOnEndingThread = releaseOnEndingThread;
    }

    public int getMaxConcurrency() {
        return maxConcurrency;
    }

    @Override
    protected void doStart() {
        if (timer == null) {
            timer = Executors.newSingleThreadScheduledExecutor(daemon("ar-ordering-gap"));
        }
        if (releasePool == null) {
            // at most maxConcurrency turns run at once, so the queue never holds more than that
            ThreadPoolExecutor pool = new ThreadPoolExecutor(maxConcurrency, maxConcurrency, 30, TimeUnit.SECONDS,
                    new LinkedBlockingQueue<>(), daemon("ar-ordering"));
            pool.allowCoreThreadTimeOut(true);
            releasePool = pool;
        }
    }

    @Override
    protected void doStop() {
        // whatever still waits is failed, so its broker message is rolled back and redelivered
        List<Waiter> orphans = new ArrayList<>();
        for (ThreadState state : states.values()) {
            synchronized (state) {
                if (state.bySeq != null) {
                    orphans.addAll(state.bySeq.values());
                    state.bySeq.clear();
                }
                if (state.unsequenced != null) {
                    orphans.addAll(state.unsequenced);
                    state.unsequenced.clear();
                }
                if (state.gapTimer != null) {
                    state.gapTimer.cancel(false);
                    state.gapTimer = null;
                }
            }
        }
        for (Waiter waiter : orphans) {
            pending.decrementAndGet();
            releaseCapacity(waiter);
            waiter.exchange.setException(new IllegalStateException("order-by-thread stopped before its turn"));
            waiter.callback.done(false);
        }
        if (timer != null) {
            timer.shutdownNow();
            timer = null;
        }
        if (releasePool != null) {
            releasePool.shutdown();
            releasePool = null;
        }
    }

    private static java.util.concurrent.ThreadFactory daemon(String name) {
        AtomicInteger n = new AtomicInteger();
        return r -> {
            Thread t = new Thread(r, name + "-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }

    // ---------------------------------------------------------------- state

    /** A message inside the gate. */
    private static final class Waiter {
        final String key;
        final Long seq;
        final Exchange exchange;
        final AsyncCallback callback;
        long receivedNanos;
        ThreadState state;
        boolean duplicate;
        /** Admitted beyond the total bound because its thread waited for it: holds no capacity permit. */
        boolean overCapacity;

        Waiter(String key, Long seq, Exchange exchange, AsyncCallback callback, long receivedNanos) {
            this.key = key;
            this.seq = seq;
            this.exchange = exchange;
            this.callback = callback;
            this.receivedNanos = receivedNanos;
        }
    }

    /** One thread with work in progress; guarded by its own monitor. */
    private static final class ThreadState {
        final String key;
        /** Last handled seq; -1 until read from the store. */
        long lastSeq = -1;
        /** A message of this thread holds the turn (in flight, or waiting for a concurrency slot). */
        boolean busy;
        Waiter current;
        TreeMap<Long, Waiter> bySeq;
        ArrayDeque<Waiter> unsequenced;
        ScheduledFuture<?> gapTimer;
        int blockedArrivals;
        boolean removed;

        ThreadState(String key) {
            this.key = key;
        }

        int pendingCount() {
            return (bySeq == null ? 0 : bySeq.size()) + (unsequenced == null ? 0 : unsequenced.size());
        }

        /** Messages wait for a predecessor and {@code seq} comes before all of them. */
        boolean waitsFor(Long seq) {
            return seq != null && bySeq != null && !bySeq.isEmpty() && seq < bySeq.firstKey()
                    && seq > lastSeq;
        }

        boolean holdsOrAwaits(long seq) {
            return (bySeq != null && bySeq.containsKey(seq)) || (busy && current != null
                    && current.seq != null && current.seq == seq);
        }

        boolean isIdle() {
            return !busy && pendingCount() == 0 && gapTimer == null && blockedArrivals == 0;
        }
    }
}
