package io.asyncroutes.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import io.asyncroutes.ordering.KeyedResequencer;
import io.asyncroutes.support.ServicesProfileTest;
import io.asyncroutes.support.VirtualThreads;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.Map;
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
class DisorderedArrivalServicesTest extends ServicesProfileTest implements DisorderedArrivalContract {

    @LocalServerPort
    int port;
    @Autowired
    JdbcTemplate jdbc;
    @Autowired
    MeterRegistry meters;

    @Autowired
    KeyedResequencer orderingGate;

    /** {@code app.ordering.virtual-threads} in this test's settings (the default: true). */
    boolean virtualThreadsAskedFor() {
        return true;
    }

    @Test
    void theGateRunsTurnsOnVirtualThreadsWhenAskedAndTheRuntimeHasThem() {
        assertThat(orderingGate.usesVirtualThreads()).isEqualTo(virtualThreadsAskedFor() && VirtualThreads.supported());
    }

    @Override
    public int port() {
        return port;
    }

    @Override
    public JdbcTemplate jdbc() {
        return jdbc;
    }

    @Override
    public MeterRegistry meters() {
        return meters;
    }

    @Override
    public Map<String, String> apiHeaders() {
        return Map.of("X-API-Key", API_KEY);
    }
}
