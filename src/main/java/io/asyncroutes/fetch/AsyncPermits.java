package io.asyncroutes.fetch;

import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A semaphore that never blocks: a task that finds no permit is queued (first come, first served)
 * and run by whichever thread releases one. It bounds the requests in flight without holding a
 * thread for each request waiting its turn.
 */
final class AsyncPermits {

    private final AtomicInteger available;
    private final Queue<Runnable> waiting = new ConcurrentLinkedQueue<>();

    AsyncPermits(int permits) {
        if (permits < 1) {
            throw new IllegalArgumentException("permits must be at least 1, was " + permits);
        }
        this.available = new AtomicInteger(permits);
    }

    /** Runs the task now if a permit is free, else when one is released; the task owns the permit until {@link #release()}. */
    void acquire(Runnable task) {
        waiting.add(task);
        drain();
    }

    void release() {
        available.incrementAndGet();
        drain();
    }

    int available() {
        return available.get();
    }

    int waiting() {
        return waiting.size();
    }

    // Each caller publishes its own change (a task queued, a permit freed) before it looks at the
    // other side, so a task and a free permit are never both left behind.
    private void drain() {
        while (true) {
            int free = available.get();
            if (free <= 0 || waiting.isEmpty()) {
                return;
            }
            if (!available.compareAndSet(free, free - 1)) {
                continue;
            }
            Runnable next = waiting.poll();
            if (next == null) {
                available.incrementAndGet(); // another thread took the task: give the permit back, look again
                continue;
            }
            next.run();
        }
    }
}
