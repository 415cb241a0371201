package io.asyncroutes.bench;

import io.asyncroutes.fetch.UpstreamServer;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.net.http.HttpClient;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * Memory of a large fan-out (README "Benchmarks", issue #10): the heap a 10 000-URL {@code POST /api/fetch}
 * adds while it runs, at the default bound of 256 requests in flight. The application runs in this
 * JVM (embedded default profile), started as a user would raise the URL limit
 * ({@code --app.limits.max-fetch-urls=10000}); the upstream is {@link UpstreamServer}, every URL
 * answered after 20 ms.
 *
 * <p>Live heap, not allocation: a sampler forces a full GC every 50 ms during the call and reads
 * the used heap right after it (what is still reachable); the growth is the largest such reading
 * minus the live heap before the call. The client's own request (about 0.5 MB) and response (about
 * 1.5 MB) are in this JVM and counted too. The forced GCs slow the call down; its time is not the
 * figure here ({@code ApiFanOutBenchmark} measures time).
 *
 * <p>Run on purpose: {@code mvn -B test -Pbench -Dtest=FanOutMemoryBenchmark}; {@code bench.runs} (5).
 */
public final class FanOutMemoryBenchmark {

    private static final int URLS = 10_000;
    private static final int DELAY_MS = 20;
    private static final long TARGET_BYTES = 64L << 20;

    @Test
    void tenThousandUrls() throws Exception {
        int runs = Integer.getInteger("bench.runs", 5);
        try (UpstreamServer upstream = new UpstreamServer()) {
            ConfigurableApplicationContext app = ApiFanOutBenchmark.startEmbedded(
                    "--app.limits.max-fetch-urls=" + URLS, "--app.limits.max-body-bytes=" + (2 << 20));
            try {
                String api = "http://127.0.0.1:" + app.getEnvironment().getProperty("local.server.port") + "/api/fetch";
                HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                        .connectTimeout(Duration.ofSeconds(5)).build();
                String base = "http://127.0.0.1:" + upstream.port();
                for (int i = 0; i < 3; i++) {
                    ApiFanOutBenchmark.call(client, api, base, URLS, 0); // JIT, pools and connections warm
                }
                MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
                long[] growth = new long[runs];
                int peakInFlight = 0;
                for (int run = 0; run < runs; run++) {
                    long before = liveHeap(memory);
                    upstream.resetCounters();
                    AtomicLong peak = new AtomicLong(before);
                    AtomicBoolean calling = new AtomicBoolean(true);
                    Thread sampler = new Thread(() -> {
                        while (calling.get()) {
                            peak.accumulateAndGet(liveHeap(memory), Math::max);
                            try {
                                Thread.sleep(50); // the sampling period, not a wait for the call
                            } catch (InterruptedException e) {
                                return;
                            }
                        }
                    }, "heap-sampler");
                    sampler.start();
                    double millis;
                    try {
                        millis = ApiFanOutBenchmark.call(client, api, base, URLS, DELAY_MS);
                    } finally {
                        calling.set(false);
                        sampler.join();
                    }
                    growth[run] = peak.get() - before;
                    peakInFlight = Math.max(peakInFlight, upstream.maxInFlight());
                    System.out.printf("run %d: live heap before %.1f MiB, peak during %.1f MiB, growth %.1f MiB, "
                                    + "%d requests in flight at most, %.0f ms (slowed by the forced GCs)%n",
                            run + 1, mib(before), mib(peak.get()), mib(growth[run]), upstream.maxInFlight(), millis);
                }
                Arrays.sort(growth);
                long median = growth[runs / 2];
                System.out.printf("%nmachine: %d cores, %s %s, max heap %.0f MiB; load average: %s%n",
                        Runtime.getRuntime().availableProcessors(), System.getProperty("java.vm.name"),
                        System.getProperty("java.version"), mib(Runtime.getRuntime().maxMemory()),
                        ApiFanOutBenchmark.loadAverage());
                System.out.println("| case | live heap growth, median MiB | max MiB | max in flight | target |");
                System.out.println("|---|---:|---:|---:|---|");
                System.out.printf("| %d URLs @ %d ms, bound 256 | **%.1f** | %.1f | %d | %s (< 64 MiB) |%n%n", URLS, DELAY_MS,
                        mib(median), mib(growth[runs - 1]), peakInFlight, growth[runs - 1] < TARGET_BYTES ? "met" : "MISSED");
            } finally {
                app.close();
            }
        }
    }

    /** Used heap right after a full GC: what is still reachable. */
    private static long liveHeap(MemoryMXBean memory) {
        System.gc();
        return memory.getHeapMemoryUsage().getUsed();
    }

    private static double mib(long bytes) {
        return bytes / (1024.0 * 1024.0);
    }
}
