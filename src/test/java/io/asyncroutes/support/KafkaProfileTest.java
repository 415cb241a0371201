package io.asyncroutes.support;

import io.asyncroutes.AsyncRoutesApplication;
import org.apache.camel.test.spring.junit5.CamelSpringBootTest;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.test.context.ActiveProfiles;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * Base of the tests on the {@code kafka} profile: a real Kafka broker ({@link KafkaTestBroker}),
 * this machine's real PostgreSQL and Redis. The test owns a schema ({@value #SCHEMA}), a key prefix,
 * topics and a consumer group, and wipes the stores before the context starts.
 */
@CamelSpringBootTest
@ActiveProfiles("kafka")
@SpringBootTest(classes = AsyncRoutesApplication.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
public abstract class KafkaProfileTest {

    public static final String API_KEY = "test-key-" + Long.toHexString(System.nanoTime());
    public static final String SCHEMA = "ar_kafka";
    public static final String KEY_PREFIX = "ar-kafka:";
    /** Topic prefix and consumer group; a fresh one per run, so nothing is left from a previous run. */
    public static final String PREFIX = "ar-kafka-" + Long.toHexString(System.currentTimeMillis());

    static {
        ServicesProfileTest.wipeStores(SCHEMA, KEY_PREFIX);
    }

    @DynamicPropertySource
    static void kafkaProperties(DynamicPropertyRegistry registry) {
        registry.add("app.security.api-key", () -> API_KEY);
        registry.add("spring.datasource.url", () -> "jdbc:postgresql://127.0.0.1:5432/test?currentSchema=" + SCHEMA);
        registry.add("spring.flyway.schemas", () -> SCHEMA);
        registry.add("app.redis.key-prefix", () -> KEY_PREFIX);
        registry.add("app.kafka.brokers", KafkaTestBroker::brokers);
        registry.add("app.kafka.group-id", () -> PREFIX);
        registry.add("app.kafka.inbound-topic", () -> PREFIX + ".in");
        registry.add("app.kafka.persist-topic", () -> PREFIX + ".persist");
        registry.add("app.kafka.results-topic", () -> PREFIX + ".results");
        registry.add("app.kafka.dead-letter-topic", () -> PREFIX + ".dead-letter");
        registry.add("server.address", () -> "127.0.0.1");
        // its own clustered Quartz scheduler name (Quartz keys a job store by scheduler name per JVM)
        registry.add("spring.quartz.scheduler-name", () -> "ar-kafka");
    }
}
