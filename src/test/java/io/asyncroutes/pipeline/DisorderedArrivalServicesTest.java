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

    @LocalServerPort
    int port;
    @Autowired
    JdbcTemplate jdbc;
    @Autowired
    MeterRegistry meters;

    @Test
    void fortyThreadsPostedInThreadOrderByConcurrentClientsAreAllProcessedInOrder() throws Exception {
        assertAllProcessedInOrder(false);
    }

    @Test
    void fortyThreadsPostedShuffledByConcurrentClientsAreAllProcessedInOrder() throws Exception {
        assertAllProcessedInOrder(true);
    }

    private void assertAllProcessedInOrder(boolean shuffled) throws Exception {
        double gapsBefore = meters.get("ar.ordering.gaps.skipped").counter().count();
        String run = "dis-" + UUID.randomUUID().toString().substring(0, 8);
        Map<String, Long> statuses = DisorderedLoad.run("http://127.0.0.1:" + port, Map.of("X-API-Key", API_KEY), jdbc,
                run, 40, 25, 16, shuffled);
        assertThat(statuses).containsExactly(Map.entry("processed", 1000L));
        assertThat(meters.get("ar.ordering.gaps.skipped").counter().count() - gapsBefore).as("gaps skipped").isZero();
    }
}
