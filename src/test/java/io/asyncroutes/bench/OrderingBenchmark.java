package io.asyncroutes.bench;

import io.asyncroutes.ordering.InMemorySeqStore;
import io.asyncroutes.ordering.OrderingHarness;
import io.asyncroutes.ordering.SeqStore;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The ordering benchmark (README "Benchmarks"), run on purpose: {@code mvn -B -o test -Pbench}. Not part of the
 * normal test run (the class name does not match surefire's test patterns).
 *
 * <p>{@code order-by-thread}'s keyed resequencer in a plain CamelContext, the rest of the pipeline
 * replaced by a simulated asynchronous 1 ms I/O (a scheduler completes the exchange after 1 ms; no
 * thread is held meanwhile). Throughput and order check for 20 000 messages over K threads, and a
 * memory run with 1 000 000 distinct thread ids.
 */
class OrderingBenchmark {

    private static final int MESSAGES = 20_000;
    private static final long IO_MICROS = 1_000;
    private static final int RUNS = Integer.getInteger("bench.runs", 5);

    @Test
    void orderingThroughputAndMemory() throws Exception {
        System.out.printf("machine: %d cores, %s %s, max heap %d MiB%n", Runtime.getRuntime().availableProcessors(),
                System.getProperty("java.vm.name"), System.getProperty("java.version"),
                Runtime.getRuntime().maxMemory() >> 20);
        for (boolean inline : new boolean[] {false, true}) {
            for (int k : new int[] {1, 10, 1000}) {
                throughput(k, inline);
            }
        }
        memory(1_000_000);
    }

    private void throughput(int k, boolean releaseOnEndingThread) throws Exception {
        try (OrderingHarness h = new OrderingHarness(new InMemorySeqStore(), Duration.ofSeconds(2), 256, 1000, 10_000,
                OrderingHarness.Mode.CHECK, 2)) {
            h.gate.setReleaseOnEndingThread(releaseOnEndingThread);
            run(h, k, "warm-up-" + k + "-"); // JIT warm-up, not reported
            List<Double> rates = new ArrayList<>();
            long ioNanos0 = h.ioNanos.sum();
            long handled0 = h.handledCount.sum();
            for (int r = 0; r < RUNS; r++) {
                rates.add(run(h, k, "run" + r + "-k" + k + "-"));
            }
            double ioMillis = (h.ioNanos.sum() - ioNanos0) / 1e6 / (h.handledCount.sum() - handled0);
            Collections.sort(rates);
            double median = rates.get(rates.size() / 2);
            System.out.printf("ordering %s K=%-5d %d msgs, 1 ms async I/O (measured %.3f ms): median %,.0f msg/s (runs %s);"
                            + " per thread %.1f%% of 1/(1 ms), %.1f%% of 1/(measured I/O); order violations %d%n",
                    releaseOnEndingThread ? "release-on-ending-thread" : "default (pool hop)      ", k, MESSAGES, ioMillis, median, format(rates), 100 * median / k / 1000.0,
                    100 * median / k * ioMillis / 1000.0, h.orderViolations.get());
            if (h.orderViolations.get() != 0) {
                throw new AssertionError("order violated");
            }
        }
    }

    /** Messages go round robin over the K threads, each thread's in seq order. */
    private double run(OrderingHarness h, int k, String prefix) throws Exception {
        CountDownLatch done = new CountDownLatch(MESSAGES);
        long start = System.nanoTime();
        for (int i = 0; i < MESSAGES; i++) {
            h.send(prefix + (i % k), (long) (i / k) + 1, IO_MICROS).whenComplete((e, t) -> done.countDown());
        }
        if (!done.await(120, TimeUnit.SECONDS)) {
            throw new AssertionError("not done");
        }
        long nanos = System.nanoTime() - start;
        return MESSAGES / (nanos / 1e9);
    }

    private void memory(int ids) throws Exception {
        MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
        // the last seq lives in Redis in the application; here nothing keeps it (SeqStore.NONE)
        try (OrderingHarness h = new OrderingHarness(SeqStore.NONE, Duration.ofSeconds(2), 256, 1000, 10_000,
                OrderingHarness.Mode.NONE, 2)) {
            send(h, 10_000, "warm-"); // load classes and pools before the baseline
            long before = usedAfterGc(memory);
            long start = System.nanoTime();
            send(h, ids, "id-");
            double seconds = (System.nanoTime() - start) / 1e9;
            int stillActive = h.gate.activeThreads();
            int evicted = h.gate.evictIdle(Instant.now());
            long after = usedAfterGc(memory);
            System.out.printf("memory: %,d distinct thread ids through the gate in %.1f s; entries left %d, evictIdle removed %d;"
                            + " used heap after GC %,.1f MiB before, %,.1f MiB after: retained %+.2f MiB%n",
                    ids, seconds, stillActive, evicted, before / 1048576.0, after / 1048576.0, (after - before) / 1048576.0);
        }
    }

    private static void send(OrderingHarness h, int ids, String prefix) throws InterruptedException {
        CountDownLatch done = new CountDownLatch(ids);
        for (int i = 0; i < ids; i++) {
            h.send(prefix + i, 1L, IO_MICROS).whenComplete((e, t) -> done.countDown());
        }
        if (!done.await(300, TimeUnit.SECONDS)) {
            throw new AssertionError("not done");
        }
    }

    private static long usedAfterGc(MemoryMXBean memory) throws InterruptedException {
        long used = Long.MAX_VALUE;
        for (int i = 0; i < 5; i++) {
            System.gc();
            Thread.sleep(100); // let the collector settle; this is a measurement, not a test wait
            used = Math.min(used, memory.getHeapMemoryUsage().getUsed());
        }
        return used;
    }

    private static String format(List<Double> rates) {
        StringBuilder sb = new StringBuilder();
        for (double r : rates) {
            sb.append(sb.length() == 0 ? "" : ", ").append(String.format("%,.0f", r));
        }
        return sb.toString();
    }
}
