package io.asyncroutes.ordering;

import io.asyncroutes.support.StoppingException;
import io.asyncroutes.support.SupersededDeliveryException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Per-thread ordering without Camel: the engine behind {@link KeyedResequencer}, the way Camel's
 * {@code StreamResequencer} sits on its {@code ResequencerEngine}. Unit-testable alone.
 *
 * <p>A message is {@linkplain #submit submitted} with its thread key and optional seq and gets a
 * {@link Ticket}. The ticket is given its thread's <em>turn</em> either at once (the caller goes on
 * inline) or later, when {@code onTurn} is called on the release executor. Whoever holds a turn
 * {@linkplain #end ends} it when its work is done; only then can the next message of the thread start.
 *
 * <ul>
 *   <li>With seq: ascending order. An early message waits (no thread parked) until its predecessor is
 *   done, or until {@code gapTimeout} has passed since it arrived; then the gap is skipped (WARN,
 *   counters) and the skipped range is remembered in the thread's {@link SeqState}.</li>
 *   <li>A seq at or below the last handled one is a {@link Verdict#DUPLICATE}, unless it lies in a
 *   skipped range: then it is {@link Verdict#LATE}, gets a turn and is handled.</li>
 *   <li>Without seq: arrival order.</li>
 *   <li>At most {@code maxConcurrency} turns run at once over all threads; one slow thread holds only
 *   its own turn. Messages inside the engine are bounded per thread and in total; above the bound the
 *   submitting caller blocks (back-pressure), except a message its thread waits for.</li>
 *   <li>Only threads with a message waiting or in flight have an entry: memory is bounded by the work
 *   in progress, not by the number of thread ids.</li>
 * </ul>
 */
public final class ThreadOrderingEngine {

    private static final Logger LOG = LoggerFactory.getLogger(ThreadOrderingEngine.class);

    /** How a message passes the engine. */
    public enum Verdict {
        /** Its turn, in seq (or arrival) order. */
        IN_ORDER,
        /** A predecessor whose gap was skipped before it arrived: handled now, out of order. */
        LATE,
        /** A seq already handled: no turn, not to be handled again. */
        DUPLICATE
    }

    /** What the engine reports, for metrics; every method is called outside the engine's locks or under a thread's. */
    public interface Listener {
        default void gapSkipped(String key, long from, long to) {
        }

        default void duplicate(String key, long seq) {
        }

        default void late(String key, long seq) {
        }
    }

    private final SeqStore store;
    private final long gapTimeoutNanos;
    /** Set once the application stops ({@link #closeForShutdown}): nothing waits, no gap is skipped. */
    private volatile boolean closing;
    private final int maxConcurrency;
    private final int maxPendingPerThread;
    private final Listener listener;
    /** How long successors wait for a message that failed and went back to the broker (0: a gap timeout). */
    private volatile long redeliveryHoldNanos;

    private final ConcurrentHashMap<String, ThreadState> states = new ConcurrentHashMap<>();
    /** Turns granted but waiting for a concurrency slot. */
    private final ConcurrentLinkedQueue<Ticket> ready = new ConcurrentLinkedQueue<>();
    private final Semaphore concurrency;
    /** Tickets inside the engine (waiting or holding a turn), all threads together. */
    private final Semaphore capacity;
    private final AtomicInteger pending = new AtomicInteger();

    private volatile ScheduledExecutorService timer;
    private volatile Executor releaseExecutor;

    public ThreadOrderingEngine(SeqStore store, Duration gapTimeout, int maxConcurrency, int maxPendingPerThread,
                                int maxPending, Listener listener) {
        this.store = store;
        this.gapTimeoutNanos = gapTimeout.toNanos();
        this.maxConcurrency = maxConcurrency;
        this.maxPendingPerThread = maxPendingPerThread;
        this.concurrency = new Semaphore(maxConcurrency);
        this.capacity = new Semaphore(maxPending);
        this.listener = listener;
    }

    /**
     * A message that failed goes back to its broker and returns after the intake's redelivery delay,
     * which can be longer than the gap timeout. It has arrived, so its successors must not skip it:
     * they wait up to {@code hold} from its latest failure. A message that does not come back within
     * that (it was dead-lettered, or its broker lost it) is then skipped as usual and, should it come
     * after all, is {@link Verdict#LATE}; one that keeps failing keeps its thread waiting, as a
     * dependency outage does anyway. Set it to the intake's maximum redelivery delay plus the gap
     * timeout.
     */
    public void setRedeliveryHold(Duration hold) {
        this.redeliveryHoldNanos = hold.toNanos();
    }

    /**
     * The connection that delivered the waiting messages is gone (the intake's broker connection
     * dropped): the broker requeues every delivery it had not been told about and delivers it again.
     * Each message waiting here (not holding a turn) is failed at once with a
     * {@link SupersededDeliveryException}, so its exchange ends quietly: left waiting, it would run
     * its gap timeout during the outage, be handled as a stale delivery that can no longer be
     * acknowledged, and skip a predecessor that is queued on the broker, which then comes late (after
     * the connection is back its consumers return queue by queue, seconds apart). The messages in
     * flight go on; those that fail hold their successors as usual.
     *
     * @return how many waiting messages were handed back
     */
    public int handBackWaiting() {
        return handBackWaiting(() -> new SupersededDeliveryException(
                "order-by-thread: its broker connection was lost, the broker delivers it again"), "Intake connection lost");
    }

    /**
     * The application is stopping: its intake consumers stop first, so a message waiting here for a
     * predecessor waits for one that stays on the broker until the restart, and would skip it at its gap
     * timeout while the graceful stop waits for it (the predecessor then comes late after the restart).
     * From now on nothing waits and no gap is skipped: every waiting message, and every later one that
     * would have to wait, fails with a {@link StoppingException}, as {@link #stop()} fails it (transient:
     * not acknowledged, its broker delivers it again after the restart). Messages in flight finish.
     *
     * @return how many waiting messages were handed back
     */
    public int closeForShutdown() {
        closing = true;
        return handBackWaiting(ThreadOrderingEngine::stoppingError, "Stopping");
    }

    private static RuntimeException stoppingError() {
        return new StoppingException("order-by-thread: the application is stopping; its broker delivers it again after the restart");
    }

    private int handBackWaiting(Supplier<RuntimeException> error, String why) {
        List<Ticket> handedBack = new ArrayList<>();
        for (ThreadState state : states.values()) {
            synchronized (state) {
                if (state.removed) {
                    continue;
                }
                int before = handedBack.size();
                takeWaiting(state, handedBack);
                if (handedBack.size() > before) {
                    pending.addAndGet(before - handedBack.size());
                    if (state.gapTimer != null) {
                        state.gapTimer.cancel(false);
                        state.gapTimer = null;
                    }
                    if (state.blockedArrivals > 0) {
                        state.notifyAll();
                    }
                    evictIfIdle(state);
                }
            }
        }
        for (Ticket ticket : handedBack) {
            releaseCapacity(ticket);
            ticket.error = error.get();
            ticket.onTurn.accept(ticket);
        }
        if (!handedBack.isEmpty()) {
            LOG.info("{}: {} messages waiting in the ordering gate handed back, the broker delivers them again",
                    why, handedBack.size());
        }
        return handedBack.size();
    }

    /**
     * Starts the engine: {@code timer} fires gap timeouts; {@code releaseExecutor} runs the
     * {@code onTurn} of a ticket released by another message's end (null: on the ending thread).
     */
    public void start(ScheduledExecutorService timer, Executor releaseExecutor) {
        this.timer = timer;
        this.releaseExecutor = releaseExecutor;
    }

    // ---------------------------------------------------------------- arrival

    /**
     * Submits a message. If the returned ticket {@link Ticket#isReady() is ready} the caller goes on at
     * once (a {@link Verdict#DUPLICATE} holds no turn); otherwise {@code onTurn} is called later, once,
     * with the ticket ready or {@linkplain Ticket#error() failed}. Blocks while the engine is full.
     *
     * @throws RuntimeException if the thread's state cannot be read (state store down: transient)
     */
    public Ticket submit(String key, Long seq, Consumer<Ticket> onTurn) throws InterruptedException {
        return submit(key, seq, null, onTurn);
    }

    /**
     * As {@link #submit(String, Long, Consumer)}, with the message's id: a second copy of a message
     * that is still waiting or in flight here (the broker redelivered it after a lost connection) is
     * not a duplicate of itself. A copy of a waiting message takes its place (the first copy is failed:
     * its connection is gone); a copy of the message in flight waits behind it.
     */
    public Ticket submit(String key, Long seq, String id, Consumer<Ticket> onTurn) throws InterruptedException {
        Ticket ticket = admit(key, seq, id, onTurn);
        if (closing && !ticket.isReady()) {
            handBackWaiting(ThreadOrderingEngine::stoppingError, "Stopping"); // it would wait: nothing waits now
        }
        return ticket;
    }

    private Ticket admit(String key, Long seq, String id, Consumer<Ticket> onTurn) throws InterruptedException {
        Ticket ticket = new Ticket(key, seq, id, onTurn, System.nanoTime());
        // back-pressure, unless this message is what its thread waits for (blocking it would leave its
        // successors stuck until the gap timeout)
        if (!capacity.tryAcquire()) {
            if (unblocksItsThread(key, seq)) {
                ticket.overCapacity = true;
            } else {
                capacity.acquire();
            }
        }
        Ticket next;
        Ticket replaced = null;
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
                        state.blockedArrivals--;
                        refuse(state, ticket);
                        throw e;
                    }
                    state.blockedArrivals--;
                }
                if (state.removed) {
                    continue;
                }
                ticket.state = state;
                if (seq != null) {
                    if (state.seq == null) {
                        try {
                            state.seq = store.load(key);
                        } catch (RuntimeException e) {
                            hold(state, seq); // it goes back to the broker: its successors wait for it
                            refuse(state, ticket);
                            throw e;
                        }
                    }
                    long last = state.seq.last();
                    Ticket waiting = state.bySeq == null ? null : state.bySeq.get(seq);
                    if (id != null && state.current != null && id.equals(state.current.id)) {
                        // a copy of the message in flight: right after it (the idempotent consumer decides)
                        ticket.copy = true;
                        if (state.late == null) {
                            state.late = new ArrayDeque<>(2);
                        }
                        state.late.addFirst(ticket);
                        pending.incrementAndGet();
                        return ticket;
                    }
                    if (id != null && waiting != null && id.equals(waiting.id)) {
                        // a copy of a waiting message: it takes the place of the stale one
                        ticket.receivedNanos = waiting.receivedNanos;
                        state.bySeq.put(seq, ticket);
                        replaced = waiting;
                        next = null;
                        break;
                    }
                    // the message in flight counts as taken: its seq is the last one as soon as it ends
                    long taken = state.current != null && state.current.seq != null && !state.current.late
                            ? Math.max(last, state.current.seq) : last;
                    // skipped ranges are recorded when the gap is skipped, before the successor ends
                    boolean late = state.seq.isSkipped(seq) && !state.lateQueued(seq);
                    if (!late && (seq <= taken || waiting != null)) {
                        ticket.verdict = Verdict.DUPLICATE;
                        ticket.duplicateOnArrival = true;
                        listener.duplicate(key, seq);
                        refuse(state, ticket);
                        return ticket;
                    }
                    if (late) {
                        ticket.late = true;
                        if (state.late == null) {
                            state.late = new ArrayDeque<>(2);
                        }
                        state.late.add(ticket);
                    } else {
                        if (state.bySeq == null) {
                            state.bySeq = new TreeMap<>();
                        }
                        state.bySeq.put(seq, ticket);
                    }
                } else {
                    if (state.unsequenced == null) {
                        state.unsequenced = new ArrayDeque<>(2);
                    }
                    state.unsequenced.add(ticket);
                }
                pending.incrementAndGet();
                next = pickNext(state);
            }
            break;
        }
        if (replaced != null) {
            releaseCapacity(replaced);
            replaced.error = new SupersededDeliveryException("order-by-thread: replaced by a redelivered copy");
            replaced.onTurn.accept(replaced);
            return ticket;
        }
        if (next == ticket) {
            grant(next, true); // not started inline when no concurrency slot is free: onTurn follows
            return ticket;
        }
        if (next != null) {
            grant(next, false);
        }
        return ticket;
    }

    /** Under the state's lock: the ticket leaves without a turn (duplicate, or refused). */
    private void refuse(ThreadState state, Ticket ticket) {
        evictIfIdle(state);
        releaseCapacity(ticket);
    }

    private void releaseCapacity(Ticket ticket) {
        if (!ticket.overCapacity) {
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

    /** Under the state's lock: the ticket that gets the thread's turn now, or null. */
    private Ticket pickNext(ThreadState state) {
        if (state.busy) {
            return null;
        }
        Ticket next = null;
        if (state.late != null && !state.late.isEmpty()) {
            next = state.late.poll(); // already overdue, or a copy of the last one: before anything else
        }
        if (next == null && state.bySeq != null && !state.bySeq.isEmpty()) {
            Map.Entry<Long, Ticket> head = state.bySeq.firstEntry();
            long seq = head.getKey();
            long last = state.seq.last();
            long waitedNanos = System.nanoTime() - head.getValue().receivedNanos;
            if (seq <= last + 1) {
                next = head.getValue();
            } else if (waitedNanos >= gapTimeoutNanos && !state.holds(last, seq) && !closing) {
                LOG.warn("Thread {}: seq {}..{} missing after {} ms, skipped; handling seq {}",
                        state.key, last + 1, seq - 1, TimeUnit.NANOSECONDS.toMillis(gapTimeoutNanos), seq);
                state.seq.addSkipped(last + 1, seq - 1);
                listener.gapSkipped(state.key, last + 1, seq - 1);
                next = head.getValue();
                next.skippedFrom = last + 1;
            } else if (state.gapTimer == null && timer != null) {
                long heldUntil = state.heldUntil(last, seq);
                long delay = heldUntil != 0 ? heldUntil - System.nanoTime() : gapTimeoutNanos - waitedNanos;
                state.gapTimer = timer.schedule(() -> onGapTimer(state), Math.max(0, delay), TimeUnit.NANOSECONDS);
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
            if (next.late && !next.copy) {
                next.verdict = Verdict.LATE;
            } else if (!next.copy && next.seq != null && next.seq <= state.seq.last()) {
                next.verdict = Verdict.DUPLICATE; // found at release: holds the turn, is not handled
            } else {
                next.verdict = Verdict.IN_ORDER;
            }
            if (next.verdict == Verdict.LATE) {
                listener.late(state.key, next.seq);
            }
            if (state.blockedArrivals > 0) {
                state.notifyAll();
            }
        }
        return next;
    }

    private void onGapTimer(ThreadState state) {
        Ticket next;
        synchronized (state) {
            state.gapTimer = null;
            next = pickNext(state);
        }
        if (next != null) {
            grant(next, false);
        }
    }

    /** Starts the turn if a concurrency slot is free, else queues it; true if started inline. */
    private boolean grant(Ticket ticket, boolean inline) {
        if (concurrency.tryAcquire()) {
            return start(ticket, inline);
        }
        ready.add(ticket);
        drainReady();
        return false;
    }

    private void drainReady() {
        while (!ready.isEmpty() && concurrency.tryAcquire()) {
            Ticket ticket = ready.poll();
            if (ticket == null) {
                concurrency.release();
                return;
            }
            start(ticket, false);
        }
    }

    private boolean start(Ticket ticket, boolean inline) {
        ticket.holdsTurn = true;
        if (inline) {
            ticket.startedInline = true; // only ever set on the submitting thread, before submit returns
            return true;
        }
        Executor executor = releaseExecutor;
        if (executor == null) {
            ticket.onTurn.accept(ticket);
        } else {
            executor.execute(() -> ticket.onTurn.accept(ticket));
        }
        return false;
    }

    /**
     * Ends the ticket's turn. {@code handled}: its work succeeded, so its seq counts as handled; a
     * failed message (to be redelivered) leaves the thread's last seq as it was and gives the waiting
     * successor a fresh gap timeout to wait for the redelivery.
     */
    public void end(Ticket ticket, boolean handled) {
        if (!ticket.holdsTurn || ticket.ended) {
            return;
        }
        ticket.ended = true;
        ThreadState state = ticket.state;
        SeqState changed = null;
        if (ticket.seq != null && !ticket.copy) {
            synchronized (state) {
                if (ticket.late) {
                    if (handled) {
                        state.seq.removeSkipped(ticket.seq);
                        changed = state.seq.copy();
                    }
                } else if (handled) {
                    boolean skippedBefore = state.seq.skippedRanges() > 0;
                    if (ticket.seq > state.seq.last()) {
                        state.seq.last(ticket.seq);
                    }
                    changed = state.seq.copy();
                    if (state.held != null) {
                        state.held.headMap(ticket.seq, true).clear(); // came back and handled, or passed
                    }
                    if (!skippedBefore && changed.skippedRanges() > 0) {
                        LOG.debug("Thread {}: skipped ranges now {}", state.key, changed);
                    }
                } else {
                    // the message goes back to the broker: its successors wait for its redelivery
                    hold(state, ticket.seq);
                    if (ticket.skippedFrom != 0 && ticket.recorded == null) {
                        reopenGap(state, ticket);
                    } else {
                        Ticket copy = takeCopy(state, ticket);
                        if (copy != null) {
                            state.late.addFirst(copy); // the message now, next in line as it was
                        }
                    }
                    if (state.bySeq != null) {
                        long now = System.nanoTime();
                        state.bySeq.values().forEach(waiting -> waiting.receivedNanos = Math.max(waiting.receivedNanos, now));
                    }
                }
            }
        }
        if (changed != null && !changed.format().equals(ticket.recorded)) {
            try {
                store.save(state.key, changed); // before the next turn, so the writes stay in order
            } catch (RuntimeException e) {
                LOG.warn("Thread {}: could not record ordering state {}: {}", state.key, changed, e.toString());
            }
        }
        Ticket next;
        synchronized (state) {
            state.busy = false;
            state.current = null;
            pending.decrementAndGet();
            next = pickNext(state);
            if (next == null) {
                evictIfIdle(state);
            }
        }
        releaseCapacity(ticket);
        concurrency.release();
        if (next != null) {
            grant(next, false);
        }
        drainReady();
    }

    /**
     * Under the state's lock: {@code failed} skipped a gap to get its turn and was not handled, so the
     * thread's last seq has not moved past the gap: the skip is undone. Its predecessors that came in
     * the meantime wait in order again instead of passing as late, and the redelivered copy waiting
     * behind it (its connection was lost) waits for them. A gap skipped while the intake's broker was
     * away, whose skipping message then failed for the same outage, would otherwise turn the
     * predecessor that was still queued into a {@link Verdict#LATE} one.
     */
    private void reopenGap(ThreadState state, Ticket failed) {
        long from = failed.skippedFrom;
        long to = failed.seq - 1;
        state.seq.removeSkipped(from, to);
        LOG.info("Thread {}: seq {} was not handled after skipping seq {}..{}: they are awaited again",
                state.key, failed.seq, from, to);
        if (state.bySeq == null) {
            state.bySeq = new TreeMap<>();
        }
        if (state.late != null) {
            for (Iterator<Ticket> it = state.late.iterator(); it.hasNext(); ) {
                Ticket waiting = it.next();
                if (waiting.late && !waiting.copy && waiting.seq >= from && waiting.seq <= to) {
                    it.remove();
                    waiting.late = false;
                    state.bySeq.putIfAbsent(waiting.seq, waiting);
                }
            }
        }
        Ticket copy = takeCopy(state, failed);
        if (copy != null) {
            state.bySeq.putIfAbsent(copy.seq, copy);
        }
    }

    /**
     * Under the state's lock: the redelivered copy of {@code failed} waiting behind it, now the message
     * itself (it updates the thread's state when handled), or null.
     */
    private static Ticket takeCopy(ThreadState state, Ticket failed) {
        if (state.late != null) {
            for (Iterator<Ticket> it = state.late.iterator(); it.hasNext(); ) {
                Ticket waiting = it.next();
                if (waiting.copy && failed.seq.equals(waiting.seq)) {
                    it.remove();
                    waiting.copy = false;
                    return waiting;
                }
            }
        }
        return null;
    }

    /** Under the state's lock: successors of {@code seq} wait for its redelivery, counted from this failure. */
    private void hold(ThreadState state, long seq) {
        if (redeliveryHoldNanos > 0) {
            if (state.held == null) {
                state.held = new TreeMap<>();
            }
            state.held.put(seq, System.nanoTime() + redeliveryHoldNanos);
        }
    }

    /** Under the state's lock: moves every ticket waiting for the thread's turn into {@code into}. */
    private static void takeWaiting(ThreadState state, List<Ticket> into) {
        if (state.bySeq != null) {
            into.addAll(state.bySeq.values());
            state.bySeq.clear();
        }
        if (state.unsequenced != null) {
            into.addAll(state.unsequenced);
            state.unsequenced.clear();
        }
        if (state.late != null) {
            into.addAll(state.late);
            state.late.clear();
        }
    }

    /** Under the state's lock: drops the entry of a thread with nothing in flight or waiting. */
    private void evictIfIdle(ThreadState state) {
        if (state.isIdle()) {
            state.removed = true;
            states.remove(state.key, state);
        }
    }

    // ---------------------------------------------------------------- housekeeping

    /** Drops the entries of idle threads (normally already gone when their last turn ended); how many. */
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

    public int maxConcurrency() {
        return maxConcurrency;
    }

    /**
     * Stops: every ticket still waiting for its turn is failed (its {@code onTurn} is called with an
     * error, on the calling thread), so its broker message is redelivered.
     */
    public void stop() {
        List<Ticket> orphans = new ArrayList<>();
        for (ThreadState state : states.values()) {
            synchronized (state) {
                takeWaiting(state, orphans);
                if (state.gapTimer != null) {
                    state.gapTimer.cancel(false);
                    state.gapTimer = null;
                }
            }
        }
        Ticket queued;
        while ((queued = ready.poll()) != null) {
            orphans.add(queued);
        }
        for (Ticket ticket : orphans) {
            pending.decrementAndGet();
            releaseCapacity(ticket);
            // transient: the message goes back to its broker (never dead-lettered) and is handled after the restart
            ticket.error = new StoppingException("order-by-thread stopped before its turn");
            ticket.onTurn.accept(ticket);
        }
        timer = null;
        releaseExecutor = null;
    }

    // ---------------------------------------------------------------- state

    /** One message inside the engine. */
    public static final class Ticket {
        final String key;
        final Long seq;
        final String id;
        final Consumer<Ticket> onTurn;
        volatile long receivedNanos;
        ThreadState state;
        volatile Verdict verdict;
        boolean startedInline;
        /** Set on the submitting thread only, before submit returns. */
        boolean duplicateOnArrival;
        volatile Exception error;
        boolean late;
        /** A redelivered copy of the message in flight. */
        boolean copy;
        /** The first seq of the gap this message skipped to get its turn (up to its own seq - 1), 0 if none. */
        long skippedFrom;
        volatile boolean holdsTurn;
        boolean ended;
        /** Admitted beyond the total bound because its thread waited for it: holds no capacity permit. */
        boolean overCapacity;
        /** The state (text form) the caller already wrote to the store with its turn's other writes. */
        volatile String recorded;

        Ticket(String key, Long seq, String id, Consumer<Ticket> onTurn, long receivedNanos) {
            this.key = key;
            this.seq = seq;
            this.id = id;
            this.onTurn = onTurn;
            this.receivedNanos = receivedNanos;
        }

        /**
         * For the submitter: go on at once, holding the turn, or as a duplicate (no turn). False: the
         * ticket's {@code onTurn} will be called instead.
         */
        public boolean isReady() {
            return startedInline || duplicateOnArrival;
        }

        public Verdict verdict() {
            return verdict;
        }

        /**
         * The thread's state once this turn ends handled (last seq moved up, or a late seq no longer
         * missing), for a caller that writes it together with its other writes of the turn (one round
         * trip instead of two); null when the turn changes no state (no seq, a copy, no turn).
         */
        public SeqState stateIfHandled() {
            ThreadState thread = state;
            if (seq == null || copy || !holdsTurn || ended || thread == null) {
                return null;
            }
            synchronized (thread) {
                if (thread.seq == null) {
                    return null;
                }
                SeqState next = thread.seq.copy();
                if (late) {
                    next.removeSkipped(seq);
                } else if (seq > next.last()) {
                    next.last(seq);
                }
                return next;
            }
        }

        /** The caller wrote {@code written} to the store: the turn's end writes it only if it still differs. */
        public void stateRecorded(SeqState written) {
            recorded = written.format();
        }

        /** Set when the ticket was failed instead of given a turn (engine stopped). */
        public Exception error() {
            return error;
        }

        public boolean holdsTurn() {
            return holdsTurn;
        }

        public String key() {
            return key;
        }

        public Long seq() {
            return seq;
        }
    }

    /** One thread with work in progress; guarded by its own monitor. */
    private static final class ThreadState {
        final String key;
        /** Last handled seq and skipped ranges; null until read from the store. */
        SeqState seq;
        /** A message of this thread holds the turn (in flight, or waiting for a concurrency slot). */
        boolean busy;
        Ticket current;
        TreeMap<Long, Ticket> bySeq;
        ArrayDeque<Ticket> unsequenced;
        ArrayDeque<Ticket> late;
        ScheduledFuture<?> gapTimer;
        int blockedArrivals;
        boolean removed;
        /** Seqs that failed and are on their way back from the broker → until when successors wait for them. */
        TreeMap<Long, Long> held;

        ThreadState(String key) {
            this.key = key;
        }

        int pendingCount() {
            return (bySeq == null ? 0 : bySeq.size()) + (unsequenced == null ? 0 : unsequenced.size())
                    + (late == null ? 0 : late.size());
        }

        /** Messages wait for a predecessor and {@code seq} comes before all of them. */
        boolean waitsFor(Long seq) {
            return seq != null && bySeq != null && !bySeq.isEmpty() && seq < bySeq.firstKey()
                    && (this.seq == null || seq > this.seq.last());
        }

        /** A late message with this seq is already waiting or in flight. */
        boolean lateQueued(long seq) {
            if (late != null) {
                for (Ticket t : late) {
                    if (t.seq == seq) {
                        return true;
                    }
                }
            }
            return busy && current != null && current.late && current.seq != null && current.seq == seq;
        }

        /** A held seq lies in the gap between the last handled one and {@code next}, and its hold still runs. */
        boolean holds(long last, long next) {
            return heldUntil(last, next) != 0;
        }

        /** When the last running hold in the gap ({@code last}, {@code next}) ends (nanoTime), 0 if none runs. */
        long heldUntil(long last, long next) {
            if (held == null || next - last < 2) {
                return 0;
            }
            pruneHolds();
            long latest = 0;
            for (long until : held.subMap(last, false, next, false).values()) {
                if (latest == 0 || until - latest > 0) {
                    latest = until;
                }
            }
            return latest;
        }

        /** Expired holds are gone for good. */
        void pruneHolds() {
            if (held != null) {
                long now = System.nanoTime();
                held.values().removeIf(until -> now - until >= 0);
            }
        }

        boolean isIdle() {
            pruneHolds();
            return !busy && pendingCount() == 0 && gapTimer == null && blockedArrivals == 0
                    && (held == null || held.isEmpty());
        }
    }
}
