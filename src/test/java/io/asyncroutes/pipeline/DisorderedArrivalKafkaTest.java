package io.asyncroutes.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import io.asyncroutes.support.DisorderedLoad;
import io.asyncroutes.support.KafkaProfileTest;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.autoconfigure.actuate.observability.AutoConfigureObservability;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.jdbc.core.JdbcTemplate;

/**
 * The same disordered load on the {@code kafka} profile: the REST intake publishes to a 16-partition
 * topic keyed by thread id on a real Kafka broker, one consumer hands records on and commits the
 * lowest unfinished offset, PostgreSQL, Redis. All processed, in order, no gap.
 */
@AutoConfigureObservability
class DisorderedArrivalKafkaTest extends KafkaProfileTest {

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
        String run = "kdis-" + UUID.randomUUID().toString().substring(0, 8);
        DisorderedLoad.Outcome outcome = DisorderedLoad.run("http://127.0.0.1:" + port, Map.of("X-API-Key", API_KEY), jdbc, run, 40, 25, 16, shuffled);
        DisorderedLoad.assertNoGapSkippedWhenPostedWithinTheGapTimeout(outcome, gapsSkipped() - gapsBefore, 1000);
    }
}
