package io.asyncroutes.fetch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The non-blocking bound of the fetch client: never more holders than permits, no task left behind. */
class AsyncPermitsTest {

    @Test
    void tasksBeyondThePermitsWaitAndAllRunWithoutABlockedThread() throws Exception {
        AsyncPermits permits = new AsyncPermits(8);
        AtomicInteger holding = new AtomicInteger();
        AtomicInteger maxHolding = new AtomicInteger();
        AtomicInteger ran = new AtomicInteger();
        ExecutorService callers = Executors.newFixedThreadPool(4);
        // holders give their permit back later from other threads, as I/O completions do
        ScheduledExecutorService completions = Executors.newScheduledThreadPool(3);
        try {
            for (int i = 0; i < 20_000; i++) {
                callers.execute(() -> permits.acquire(() -> {
                    maxHolding.accumulateAndGet(holding.incrementAndGet(), Math::max);
                    ran.incrementAndGet();
                    completions.schedule(() -> {
                        holding.decrementAndGet();
                        permits.release();
                    }, 50, TimeUnit.MICROSECONDS);
                }));
            }
            await().atMost(Duration.ofSeconds(30)).until(() -> ran.get() == 20_000 && holding.get() == 0);
            assertThat(maxHolding.get()).isBetween(1, 8);
            assertThat(permits.available()).isEqualTo(8);
            assertThat(permits.waiting()).isZero();
        } finally {
            callers.shutdownNow();
            completions.shutdownNow();
        }
    }
}
