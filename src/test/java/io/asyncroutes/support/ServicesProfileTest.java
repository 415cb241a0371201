package io.asyncroutes.support;

import io.asyncroutes.AsyncRoutesApplication;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import org.apache.camel.test.spring.junit5.CamelSpringBootTest;
import org.springframework.amqp.rabbit.connection.CachingConnectionFactory;
import org.springframework.amqp.rabbit.core.RabbitAdmin;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;
import org.springframework.data.redis.core.Cursor;
import org.springframework.data.redis.core.ScanOptions;
import org.springframework.data.redis.core.StringRedisTemplate;
import org.springframework.test.context.ActiveProfiles;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * Base of the tests on the {@code services} profile against this machine's real PostgreSQL,
 * Redis and RabbitMQ. The test owns a schema ({@value #SCHEMA}), a key prefix and an exchange
 * with its queues, and wipes them before the context starts so every run begins clean.
 */
@CamelSpringBootTest
@ActiveProfiles("services")
@SpringBootTest(classes = AsyncRoutesApplication.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
public abstract class ServicesProfileTest {

    public static final String API_KEY = "test-key-" + Long.toHexString(System.nanoTime());
    public static final String SCHEMA = "ar_it";
    public static final String PREFIX = "ar-it";
    public static final String KEY_PREFIX = "ar-it:";

    static {
        resetServices();
    }

    @DynamicPropertySource
    static void servicesProperties(DynamicPropertyRegistry registry) {
        registry.add("app.security.api-key", () -> API_KEY);
        registry.add("spring.datasource.url", () -> "jdbc:postgresql://127.0.0.1:5432/test?currentSchema=" + SCHEMA);
        registry.add("spring.flyway.schemas", () -> SCHEMA);
        registry.add("app.redis.key-prefix", () -> KEY_PREFIX);
        registry.add("app.rabbitmq.exchange", () -> PREFIX);
        registry.add("app.rabbitmq.prefix", () -> PREFIX);
        registry.add("server.address", () -> "127.0.0.1");
        // its own clustered Quartz scheduler name (and so its own qrtz_* rows): Quartz keys a job store's
        // connection provider by scheduler name per JVM, so another clustered test app must not share it
        registry.add("spring.quartz.scheduler-name", () -> PREFIX);
    }

    private static void resetServices() {
        wipe(SCHEMA, KEY_PREFIX, PREFIX);
    }

    /**
     * Fails with what is missing and the command that adds it, rather than letting every test fail
     * on its own (a fresh RabbitMQ 3.x has neither partition exchange plugin enabled).
     */
    public static void requireBrokerPrerequisites() {
        com.rabbitmq.client.ConnectionFactory factory = new com.rabbitmq.client.ConnectionFactory();
        factory.setHost("127.0.0.1");
        io.asyncroutes.config.RabbitPrerequisites.requireExchangeType(factory, "x-modulus-hash", "rabbitmq_sharding");
    }

    /**
     * Gives a test a clean slate on the machine's real services: drops its PostgreSQL schema,
     * deletes its Redis keys (SCAN, not KEYS) and its RabbitMQ exchange and queues.
     */
    public static void wipe(String schema, String keyPrefix, String rabbitPrefix) {
        requireBrokerPrerequisites();
        wipeStores(schema, keyPrefix);
        wipeRabbit(rabbitPrefix);
    }

    /** Drops the PostgreSQL schema and deletes the Redis keys under the prefix (SCAN, not KEYS). */
    public static void wipeStores(String schema, String keyPrefix) {
        try (Connection c = DriverManager.getConnection("jdbc:postgresql://127.0.0.1:5432/test", "postgres", "");
             Statement s = c.createStatement()) {
            s.execute("DROP SCHEMA IF EXISTS " + schema + " CASCADE");
        } catch (SQLException e) {
            throw new IllegalStateException("PostgreSQL on 127.0.0.1:5432 is needed for the services-profile tests", e);
        }
        LettuceConnectionFactory redis = new LettuceConnectionFactory("127.0.0.1", 6379);
        redis.afterPropertiesSet();
        try {
            StringRedisTemplate template = new StringRedisTemplate(redis);
            try (Cursor<String> keys = template.scan(ScanOptions.scanOptions().match(keyPrefix + "*").count(500).build())) {
                keys.forEachRemaining(template::delete);
            }
        } finally {
            redis.destroy();
        }
    }

    private static void wipeRabbit(String rabbitPrefix) {
        CachingConnectionFactory rabbit = new CachingConnectionFactory("127.0.0.1", 5672);
        try {
            RabbitAdmin admin = new RabbitAdmin(rabbit);
            List<String> queues = new ArrayList<>(List.of("in", "persist", "results", "dead-letter"));
            for (int i = 0; i < 16; i++) {
                queues.add("in." + i);
                queues.add("persist." + i);
            }
            queues.forEach(queue -> admin.deleteQueue(rabbitPrefix + "." + queue));
            admin.deleteExchange(rabbitPrefix);
            admin.deleteExchange(rabbitPrefix + ".in");
            admin.deleteExchange(rabbitPrefix + ".persist");
        } finally {
            rabbit.destroy();
        }
    }
}
