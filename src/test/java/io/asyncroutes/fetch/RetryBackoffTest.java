package io.asyncroutes.fetch;

import static org.assertj.core.api.Assertions.assertThat;

import io.asyncroutes.settings.AppSettings;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The http-retry schedule: initial × multiplier^(n-1), capped, ±jitter around the nominal value (never compounding). */
class RetryBackoffTest {

    @Test
    void delaysStayWithinTheJitterBandOfTheNominalSchedule() {
        AppSettings.Retry retry = new AppSettings.Retry(); // 1 s, x2, max 30 s, ±15 %
        long[] nominal = {1000, 2000, 4000, 8000, 16000, 30000, 30000};
        for (int n = 1; n <= nominal.length; n++) {
            for (int sample = 0; sample < 2000; sample++) {
                long delay = HttpRetryConfiguration.backoff(retry, n);
                assertThat(delay).as("retry %d", n)
                        .isBetween(Math.round(nominal[n - 1] * 0.85), Math.min(Math.round(nominal[n - 1] * 1.15), 30000));
            }
        }
    }

    @Test
    void jitterActuallyVariesTheDelay() {
        AppSettings.Retry retry = new AppSettings.Retry();
        retry.setInitialDelay(Duration.ofMillis(100));
        long min = Long.MAX_VALUE;
        long max = 0;
        for (int i = 0; i < 2000; i++) {
            long delay = HttpRetryConfiguration.backoff(retry, 1);
            min = Math.min(min, delay);
            max = Math.max(max, delay);
        }
        assertThat(min).isLessThan(92);
        assertThat(max).isGreaterThan(108);
    }
}
