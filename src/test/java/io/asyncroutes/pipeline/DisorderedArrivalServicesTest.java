package io.asyncroutes.pipeline;

import io.asyncroutes.support.ServicesProfileTest;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.Map;
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
