package io.asyncroutes.ordering;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.camel.Exchange;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import io.asyncroutes.support.VirtualThreads;

/**
 * The keyed resequencer in a plain CamelContext (fast, no broker): randomised arrivals, duplicates,
 * gaps, a concurrency probe, head-of-line blocking, back-pressure and eviction.
 */
class KeyedResequencerTest {

    private OrderingHarness harness;
    private final ScheduledExecutorService arrivals = Executors.newScheduledThreadPool(4);

    @AfterEach
    void tearDown() {
        arrivals.shutdownNow();
        if (harness != null) {
            harness.close();
        }
    }

    @Test
    void randomisedArrivalsAreHandledInSeqOrderWithDuplicatesAndGaps() throws Exception {
        randomised(false, 42);
    }

    @Test
    void randomisedArrivalsKeepOrderWhenReleasedOnTheEndingThread() throws Exception {
        randomised(true, 4242);
    }

    @Test
    void randomisedArrivalsKeepOrderWhenTurnsRunOnVirtualThreads() throws Exception {
        randomised(false, 424242, true);
        if (VirtualThreads.supported()) {
            // released turns run on virtual threads; a turn admitted at once stays on its caller (continueOnPool is off)
            assertThat(harness.handlingThreads).contains("virtual ar-ordering-N")
                    .allMatch(t -> t.equals("virtual ar-ordering-N") || t.startsWith("platform pool-"));
        }
    }

    private void randomised(boolean releaseOnEndingThread, long seed) throws Exception {
        randomised(releaseOnEndingThread, seed, false);
    }

    private void randomised(boolean releaseOnEndingThread, long seed, boolean virtualThreads) throws Exception {
        harness = new OrderingHarness(new InMemorySeqStore(), Duration.ofMillis(300), 16, 1000, 10_000,
                OrderingHarness.Mode.RECORD, 2, gate -> gate.setVirtualThreads(virtualThreads));
        harness.gate.setReleaseOnEndingThread(releaseOnEndingThread);
        Random random = new Random(seed);
        int threads = 60;
        int perThread = 30;
        Map<String, TreeSet<Long>> expected = new ConcurrentHashMap<>();
        Map<String, Integer> expectedDuplicates = new ConcurrentHashMap<>();
        int expectedGaps = 0;
        List<CompletableFuture<CompletableFuture<Exchange>>> sends = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            String thread = "t" + t;
            TreeSet<Long> sent = new TreeSet<>();
            // every third thread loses one message in the middle: a gap to skip after the timeout
            long missing = t % 3 == 0 ? 2 + random.nextInt(perThread - 3) : -1;
            if (missing > 0) {
                expectedGaps++;
            }
            int dups = 0;
            for (long seq = 1; seq <= perThread; seq++) {
                if (seq == missing) {
                    continue;
                }
                sent.add(seq);
                // seq s arrives around s*3 ms, shuffled by up to 25 ms: locally out of order
                long at = seq * 3 + random.nextInt(25);
                sends.add(sendAt(thread, seq, at, 200 + random.nextInt(800)));
                if (random.nextInt(10) == 0) {
                    dups++; // a replay of the same seq, well after the original
                    sends.add(sendAt(thread, seq, at + 60, 100));
                }
            }
            expected.put(thread, sent);
            expectedDuplicates.put(thread, dups);
        }
        for (var send : sends) {
            assertThat(send.get(30, TimeUnit.SECONDS).get(30, TimeUnit.SECONDS).getException()).isNull();
        }

        for (var e : expected.entrySet()) {
            assertThat(harness.handled.get(e.getKey())).as("handling order of " + e.getKey())
                    .containsExactlyElementsOf(e.getValue());
            assertThat(harness.duplicates.getOrDefault(e.getKey(), List.of())).as("duplicates of " + e.getKey())
                    .hasSize(expectedDuplicates.get(e.getKey()));
        }
        assertThat(harness.maxOverlap.get()).as("messages of one thread in flight at once").isEqualTo(1);
        assertThat(harness.gapsSkipped()).isEqualTo(expectedGaps);
        assertThat(harness.gate.activeThreads()).as("idle thread state evicted").isZero();
        assertThat(harness.gate.pendingMessages()).isZero();
    }

    @Test
    void withoutSeqMessagesAreHandledInArrivalOrderOneAtATime() throws Exception {
        harness = new OrderingHarness(new InMemorySeqStore(), Duration.ofSeconds(2), 8, 1000, 10_000, true, 2);
        List<CompletableFuture<Exchange>> done = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            // the I/O time encodes the arrival index, so the handled list can be checked against it
            done.add(harness.send("plain-" + (i % 4), null, 500));
        }
        for (var f : done) {
            assertThat(f.get(10, TimeUnit.SECONDS).getException()).isNull();
        }
        assertThat(harness.handled).hasSize(4);
        harness.handled.values().forEach(list -> assertThat(list).hasSize(50));
        assertThat(harness.maxOverlap.get()).isEqualTo(1);
        assertThat(harness.gate.activeThreads()).isZero();
    }

    @Test
    void aSlowThreadDoesNotDelayOtherThreads() throws Exception {
        // few concurrency slots on purpose: the slow thread may hold only one of them
        harness = new OrderingHarness(new InMemorySeqStore(), Duration.ofSeconds(2), 4, 1000, 10_000, true, 2);
        long start = System.nanoTime();
        List<CompletableFuture<Exchange>> slow = new ArrayList<>();
        for (long seq = 1; seq <= 5; seq++) {
            slow.add(harness.send("slow", seq, 200_000)); // 200 ms each, 1 s in all
        }
        List<CompletableFuture<Exchange>> fast = new ArrayList<>();
        for (long seq = 1; seq <= 20; seq++) {
            for (int t = 0; t < 20; t++) {
                fast.add(harness.send("fast-" + t, seq, 1_000));
            }
        }
        CompletableFuture.allOf(fast.toArray(CompletableFuture[]::new)).get(30, TimeUnit.SECONDS);
        long fastNanos = System.nanoTime() - start;
        CompletableFuture.allOf(slow.toArray(CompletableFuture[]::new)).get(30, TimeUnit.SECONDS);
        long slowNanos = System.nanoTime() - start;

        // 400 fast messages on 3 free slots need ~130 ms of I/O; the slow thread needs 1 s alone
        assertThat((double) fastNanos / slowNanos).as("fast threads' time / slow thread's time").isLessThan(0.5);
        assertThat(harness.handled.get("slow")).containsExactly(1L, 2L, 3L, 4L, 5L);
        assertThat(harness.maxOverlap.get()).isEqualTo(1);
    }

    @Test
    void fullBuffersBlockTheCallerAndDropNothing() throws Exception {
        harness = new OrderingHarness(new InMemorySeqStore(), Duration.ofSeconds(2), 4, 3, 10, true, 2);
        AtomicInteger maxPending = new AtomicInteger();
        List<CompletableFuture<Exchange>> done = new ArrayList<>();
        for (long seq = 1; seq <= 60; seq++) {
            for (int t = 0; t < 3; t++) {
                done.add(harness.send("bp-" + t, seq, 200));
                maxPending.accumulateAndGet(harness.gate.pendingMessages(), Math::max);
            }
        }
        for (var f : done) {
            assertThat(f.get(10, TimeUnit.SECONDS).getException()).isNull();
        }
        assertThat(maxPending.get()).as("messages inside the gate at once").isLessThanOrEqualTo(10);
        for (int t = 0; t < 3; t++) {
            assertThat(harness.handled.get("bp-" + t)).hasSize(60).isSorted();
        }
    }

    @Test
    void stateOfManyDistinctThreadsIsEvicted() throws Exception {
        harness = new OrderingHarness(new InMemorySeqStore(), Duration.ofSeconds(2), 64, 1000, 10_000, false, 2);
        List<CompletableFuture<Exchange>> done = new ArrayList<>();
        for (int i = 0; i < 20_000; i++) {
            done.add(harness.send("distinct-" + i, 1L, 0));
        }
        CompletableFuture.allOf(done.toArray(CompletableFuture[]::new)).get(30, TimeUnit.SECONDS);
        assertThat(harness.gate.activeThreads()).isZero();
        assertThat(harness.gate.evictIdle(java.time.Instant.now())).isZero();
        assertThat(harness.gate.pendingMessages()).isZero();
    }

    private CompletableFuture<CompletableFuture<Exchange>> sendAt(String thread, long seq, long atMillis, long ioMicros) {
        CompletableFuture<CompletableFuture<Exchange>> f = new CompletableFuture<>();
        arrivals.schedule(() -> f.complete(harness.send(thread, seq, ioMicros)), atMillis, TimeUnit.MILLISECONDS);
        return f;
    }
}
