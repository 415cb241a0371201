package io.asyncroutes.pipeline;

import io.asyncroutes.support.KafkaProfileTest;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.Map;
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
class DisorderedArrivalKafkaTest extends KafkaProfileTest implements DisorderedArrivalContract {

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
