package io.asyncroutes.intake;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Predicate;

/**
 * The offsets a Kafka consumer may commit, per partition: a committed offset means "everything
 * below has completed", so the offset committed is always the <em>lowest unfinished</em> one.
 * Records are handed to the pipeline one after the other, and complete out of that order (threads
 * run in parallel, an early message waits in the ordering gate for its predecessor); a completed
 * offset above an unfinished one waits until the floor reaches it. A crash therefore leaves
 * committed only what is done, and Kafka redelivers the rest (the idempotent consumer recognises
 * the copies of what had completed above the floor).
 *
 * <p>Plain Java, no Kafka and no Camel: the consumer side ({@code kafka/WindowConsumerListener},
 * on the polling thread, the only thread allowed to touch a Kafka consumer) takes the offsets to
 * commit ({@link #takeCommits}), pauses a partition whose window is full ({@link #isFull}) and
 * settles partitions on a rebalance ({@link #revoke}, {@link #assigned}). Offsets need not be
 * contiguous (compacted topics, transaction markers): the floor is the lowest offset received and
 * not completed, or one past the highest received when all have completed.
 */
public final class KafkaCommitWindow {

    /** One topic partition. */
    public record Partition(String topic, int partition) {
        @Override
        public String toString() {
            return topic + "-" + partition;
        }
    }

    private final int maxInFlight;
    private final Map<Partition, State> states = new HashMap<>();

    /** @param maxInFlight received and not completed records per partition before it counts as full */
    public KafkaCommitWindow(int maxInFlight) {
        if (maxInFlight < 1) {
            throw new IllegalArgumentException("maxInFlight must be at least 1");
        }
        this.maxInFlight = maxInFlight;
    }

    /** One partition as owned since its last assignment: a revoked one is never reused. */
    private static final class State {
        /** Received offsets above the floor: true = completed. */
        final TreeMap<Long, Boolean> offsets = new TreeMap<>();
        int inFlight;
        /** Of those, the ones past the ordering gate, being handled: what a revocation waits for. */
        int handling;
        /** Next offset to commit (everything below completed), -1 while nothing completed. */
        long committable = -1;
        /** Last offset handed out by takeCommits, -1 none. */
        long taken = -1;
        /** Offsets below this were settled and left the map (a re-received one is ignored). */
        long settledBelow = -1;
        /** Being revoked: its records may still complete, none is handled any more (see {@link Delivery#isCurrent()}). */
        boolean draining;
        boolean revoked;
    }

    /** The record at one offset, as the pipeline sees it. */
    public final class Delivery {
        private final Partition partition;
        private final long offset;
        private final State state;
        private boolean done;
        private boolean claimed;

        private Delivery(Partition partition, long offset, State state) {
            this.partition = partition;
            this.offset = offset;
            this.state = state;
        }

        public Partition partition() {
            return partition;
        }

        public long offset() {
            return offset;
        }

        /** Its exchange completed (handled, or dead-lettered): the floor may pass it. */
        public void completed() {
            KafkaCommitWindow.this.completed(this);
        }

        /**
         * Called as its exchange is about to be handled (it passed the ordering gate): true, and from
         * now on a revocation waits for it, if this instance still owns the partition; false if the
         * partition is being revoked or gone, and then it must not be handled (the new owner will).
         */
        public boolean claim() {
            synchronized (KafkaCommitWindow.this) {
                if (done || state.revoked || state.draining || states.get(partition) != state) {
                    return false;
                }
                if (!claimed) {
                    claimed = true;
                    state.handling++;
                }
                return true;
            }
        }

        /**
         * Its exchange ended without handling it (its partition moved away meanwhile): a revocation
         * need not wait for it, and its offset stays unfinished, so no commit passes it.
         */
        public void abandoned() {
            KafkaCommitWindow.this.abandoned(this);
        }

        /**
         * Whether this instance still owns the record's partition since it was received. If not, the
         * new owner reads it again from the committed offset: retrying it here would handle it twice
         * side by side.
         */
        public boolean isCurrent() {
            synchronized (KafkaCommitWindow.this) {
                return !state.revoked && !state.draining && states.get(partition) == state;
            }
        }

        @Override
        public String toString() {
            return partition + "@" + offset;
        }
    }

    /** A record handed to the pipeline: it holds the floor of its partition until {@link Delivery#completed()}. */
    public synchronized Delivery received(String topic, int partition, long offset) {
        Partition p = new Partition(topic, partition);
        State state = states.computeIfAbsent(p, k -> new State());
        Delivery delivery = new Delivery(p, offset, state);
        if (offset < state.settledBelow || state.offsets.containsKey(offset)) {
            // read again (the consumer re-polled after an error): the first delivery holds the floor
            delivery.done = true;
            return delivery;
        }
        state.offsets.put(offset, Boolean.FALSE);
        state.inFlight++;
        return delivery;
    }

    private synchronized void completed(Delivery delivery) {
        State state = delivery.state;
        if (delivery.done || state.revoked || states.get(delivery.partition) != state) {
            return;
        }
        delivery.done = true;
        if (state.offsets.replace(delivery.offset, Boolean.TRUE) == null) {
            return;
        }
        state.inFlight--;
        if (delivery.claimed) {
            state.handling--;
        }
        long last = -1;
        while (!state.offsets.isEmpty() && state.offsets.firstEntry().getValue()) {
            last = state.offsets.pollFirstEntry().getKey();
        }
        if (last >= 0) {
            state.settledBelow = last + 1;
            state.committable = state.offsets.isEmpty() ? last + 1 : state.offsets.firstKey();
        }
        if (state.handling == 0) {
            notifyAll(); // a revocation may be waiting for the partition to drain
        }
    }

    private synchronized void abandoned(Delivery delivery) {
        State state = delivery.state;
        if (delivery.done || state.revoked || states.get(delivery.partition) != state) {
            return;
        }
        delivery.done = true;
        if (state.offsets.containsKey(delivery.offset)) {
            state.inFlight--; // the offset itself stays unfinished: the floor never passes it
            if (delivery.claimed) {
                state.handling--;
            }
            if (state.handling == 0) {
                notifyAll();
            }
        }
    }

    /**
     * The offsets to commit now (partition → next offset to read), for the partitions {@code owned}
     * says the caller's consumer holds; each is handed out once. If the commit fails, {@link #commitFailed}.
     */
    public synchronized Map<Partition, Long> takeCommits(Predicate<Partition> owned) {
        Map<Partition, Long> commits = new LinkedHashMap<>();
        states.forEach((p, state) -> {
            if (state.committable > state.taken && owned.test(p)) {
                commits.put(p, state.committable);
                state.taken = state.committable;
            }
        });
        return commits;
    }

    /** A commit handed out by {@link #takeCommits} did not reach the broker: hand it out again. */
    public synchronized void commitFailed(Partition partition, long offset) {
        State state = states.get(partition);
        if (state != null && state.taken == offset) {
            state.taken = -1;
        }
    }

    /** Whether the partition has {@code maxInFlight} records received and not completed. */
    public synchronized boolean isFull(Partition partition) {
        State state = states.get(partition);
        return state != null && state.inFlight >= maxInFlight;
    }

    /** Whether a full partition has drained enough to be read again (half the window: no pause/resume flapping). */
    public synchronized boolean hasRoom(Partition partition) {
        State state = states.get(partition);
        return state == null || state.inFlight <= maxInFlight / 2;
    }

    /** Records received and not completed, over all partitions. */
    public synchronized int inFlight() {
        return states.values().stream().mapToInt(s -> s.inFlight).sum();
    }

    /** Records received and not completed, per partition (for health and tests). */
    public synchronized Map<Partition, Integer> inFlightByPartition() {
        Map<Partition, Integer> snapshot = new TreeMap<>((a, b) -> a.topic().equals(b.topic())
                ? Integer.compare(a.partition(), b.partition()) : a.topic().compareTo(b.topic()));
        states.forEach((p, s) -> snapshot.put(p, s.inFlight));
        return snapshot;
    }

    /**
     * The partitions are taken away (a rebalance, or the consumer closing): from now on their records
     * are no longer {@link Delivery#isCurrent() current}, and one still waiting for its turn in the
     * ordering gate is dropped instead of handled ({@link Delivery#claim()}); waits up to {@code drain}
     * for those being handled to complete (not for the waiting ones: their predecessors, later in the
     * partition, will not be read here any more), then forgets the partitions and returns the offsets
     * still to commit. What has not completed by then is not
     * committed: the new owner reads it again, and the idempotent consumer recognises it if it
     * completes here as well.
     */
    public synchronized Map<Partition, Long> revoke(Collection<Partition> partitions, Duration drain)
            throws InterruptedException {
        long deadline = System.nanoTime() + drain.toNanos();
        for (Partition p : partitions) {
            State state = states.get(p);
            if (state != null) {
                state.draining = true; // what has not started by now is left to the new owner
            }
        }
        for (Partition p : partitions) {
            State state;
            while ((state = states.get(p)) != null && state.handling > 0) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    break;
                }
                wait(Math.max(1, left / 1_000_000));
            }
        }
        Map<Partition, Long> commits = new LinkedHashMap<>();
        for (Partition p : partitions) {
            State state = states.remove(p);
            if (state != null) {
                state.revoked = true;
                if (state.committable > state.taken) {
                    commits.put(p, state.committable);
                }
            }
        }
        return commits;
    }

    /** The partitions are gone without a chance to commit (the consumer lost its membership). */
    public synchronized void lost(Collection<Partition> partitions) {
        for (Partition p : partitions) {
            State state = states.remove(p);
            if (state != null) {
                state.revoked = true;
            }
        }
        notifyAll();
    }

    /** Newly assigned partitions start clean: what a previous ownership left in flight no longer counts. */
    public synchronized void assigned(Collection<Partition> partitions) {
        List<Partition> fresh = new ArrayList<>(partitions);
        lost(fresh);
    }
}
