package io.asyncroutes.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import io.asyncroutes.support.DisorderedLoad;
import io.asyncroutes.support.ServicesProfileTest;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.autoconfigure.actuate.observability.AutoConfigureObservability;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.jdbc.core.JdbcTemplate;

/**
 * The same disordered load on the {@code services} profile: RabbitMQ partition queues with
 * asynchronous consumers and individual acks, PostgreSQL, Redis. All processed, in order, no gap.
 */
@AutoConfigureObservability
class DisorderedArrivalServicesTest extends ServicesProfileTest {

    /** The default gap timeout (app.ordering.gap-timeout), unchanged in these tests. */
    private static final long GAP_TIMEOUT_MILLIS = 2000;

    @LocalServerPort
    int port;
    @Autowired
    JdbcTemplate jdbc;
    @Autowired
    MeterRegistry meters;

    private double gapsSkipped() {
        return meters.get("ar.ordering.gaps.skipped").counter().count();
    }

    @Test
    void fortyThreadsPostedInThreadOrderByConcurrentClientsAreAllProcessedInOrder() throws Exception {
        assertAllProcessedInOrder(false);
    }

    @Test
    void fortyThreadsPostedShuffledByConcurrentClientsAreAllProcessedInOrder() throws Exception {
        assertAllProcessedInOrder(true);
    }

    private void assertAllProcessedInOrder(boolean shuffled) throws Exception {
        double gapsBefore = gapsSkipped();
        String run = "dis-" + UUID.randomUUID().toString().substring(0, 8);
        DisorderedLoad.Outcome outcome = DisorderedLoad.run("http://127.0.0.1:" + port, Map.of("X-API-Key", API_KEY), jdbc, run, 40, 25, 16, shuffled);
        double gaps = gapsSkipped() - gapsBefore;
        if (outcome.postingMillis() < GAP_TIMEOUT_MILLIS) {
            // every predecessor arrived within the gap timeout of its successor: nothing may be skipped
            assertThat(outcome.statuses()).containsExactly(Map.entry("processed", 1000L));
            assertThat(gaps).as("gaps skipped").isZero();
        } else {
            // posting itself took longer than the gap timeout: a predecessor may truly have come later
            // than that; it is then handled late, never lost or taken for a duplicate (checked above)
            System.out.printf("posting took %d ms, more than the gap timeout: %s, %.0f gaps skipped%n",
                    outcome.postingMillis(), outcome.statuses(), gaps);
        }
    }
}
