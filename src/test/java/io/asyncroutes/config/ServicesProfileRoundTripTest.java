package io.asyncroutes.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import org.assertj.core.api.InstanceOfAssertFactories;

import com.fasterxml.jackson.databind.JsonNode;
import io.asyncroutes.api.ApiKeyFilter;
import io.asyncroutes.broker.ListenerContainersWithoutRetry;
import io.asyncroutes.support.Http;
import io.asyncroutes.support.Json;
import io.asyncroutes.support.ServicesProfileTest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import org.apache.camel.ProducerTemplate;
import org.apache.camel.component.springrabbit.DefaultListenerContainerFactory;
import org.apache.camel.component.springrabbit.SpringRabbitMQComponent;
import org.apache.camel.component.springrabbit.SpringRabbitMQEndpoint;
import org.junit.jupiter.api.Test;
import org.springframework.amqp.core.Message;
import org.springframework.amqp.rabbit.core.RabbitTemplate;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.data.redis.core.StringRedisTemplate;
import org.springframework.jdbc.core.JdbcTemplate;

/** The {@code services} profile end to end on the real PostgreSQL, Redis and RabbitMQ of this machine. */
class ServicesProfileRoundTripTest extends ServicesProfileTest {

    @LocalServerPort
    int port;
    @Autowired
    ProducerTemplate producer;
    @Autowired
    RabbitTemplate rabbit;
    @Autowired
    JdbcTemplate jdbc;
    @Autowired
    StringRedisTemplate redis;
    @Autowired
    org.apache.camel.CamelContext camel;

    @Test
    void apiRequiresTheKeyAndRoundTripsIntoPostgres() throws Exception {
        String url = "http://127.0.0.1:" + port + "/api/messages";
        String body = "{\"threadId\":\"svc-rest\",\"seq\":1,\"content\":\"hello postgres\"}";

        HttpResponse<String> anonymous = Http.postJson(url, body);
        assertThat(anonymous.statusCode()).isEqualTo(401);
        assertThat(Json.MAPPER.readTree(anonymous.body()).path("error").asText()).isEqualTo("unauthorized");
        HttpResponse<String> wrongKey = Http.send("POST", url, "application/json", body, Map.of(ApiKeyFilter.HEADER, "nope"));
        assertThat(wrongKey.statusCode()).isEqualTo(401);

        HttpResponse<String> accepted = Http.send("POST", url, "application/json", body, Map.of(ApiKeyFilter.HEADER, API_KEY));
        assertThat(accepted.statusCode()).isEqualTo(202);
        String id = Json.MAPPER.readTree(accepted.body()).path("id").asText();

        JsonNode result = await().atMost(Duration.ofSeconds(10)).until(() -> {
            HttpResponse<String> r = Http.send("GET", url + "/" + id, null, null, Map.of(ApiKeyFilter.HEADER, API_KEY));
            return r.statusCode() == 200 ? Json.MAPPER.readTree(r.body()) : null;
        }, r -> r != null);
        assertThat(result.path("status").asText()).isEqualTo("processed");
        assertThat(jdbc.queryForObject("SELECT current_schema()", String.class)).isEqualTo(SCHEMA);
        assertThat(jdbc.queryForObject("SELECT thread_id FROM ar_message WHERE id = ?", String.class, id)).isEqualTo("svc-rest");
        // the idempotency key lives in the real Redis, under the configured prefix, with a TTL
        assertThat(redis.getExpire(KEY_PREFIX + "idem:" + id)).isPositive();
    }

    @Test
    void rabbitMessageIsStoredPublishedAndDuplicatesAreSkipped() throws Exception {
        String id = "svc-q-" + UUID.randomUUID();
        String message = "{\"id\":\"" + id + "\",\"threadId\":\"svc-queue\",\"content\":\"via rabbit\"}";
        producer.sendBody("{{app.endpoints.inbound-publish}}", message);

        assertThat(receiveResult(id).path("status").asText()).isEqualTo("processed");
        await().atMost(Duration.ofSeconds(10)).until(() ->
                jdbc.queryForObject("SELECT COUNT(*) FROM ar_message WHERE id = ?", Integer.class, id) == 1);

        producer.sendBody("{{app.endpoints.inbound-publish}}", message);
        assertThat(receiveResult(id).path("status").asText()).isEqualTo("duplicate");
        assertThat(jdbc.queryForObject("SELECT COUNT(*) FROM ar_message WHERE id = ?", Integer.class, id)).isEqualTo(1);
    }

    /** The next result of this message id on the results queue; results of other tests are skipped. */
    private JsonNode receiveResult(String id) throws Exception {
        long deadline = System.currentTimeMillis() + 10_000;
        while (System.currentTimeMillis() < deadline) {
            Message message = rabbit.receive(PREFIX + ".results", 1_000);
            if (message != null && id.equals(message.getMessageProperties().getHeader("arMessageId"))) {
                return Json.MAPPER.readTree(message.getBody());
            }
        }
        throw new AssertionError("no result for " + id + " within 10 s");
    }

    @Test
    void poisonRabbitMessageIsDeadLetteredWithItsReason() throws Exception {
        producer.sendBody("{{app.endpoints.inbound-publish}}", "{\"threadId\":\"svc\",\"content\":42}");

        Message dead = rabbit.receive(PREFIX + ".dead-letter", 10_000);
        assertThat(dead).isNotNull();
        assertThat(new String(dead.getBody())).contains("\"content\":42");
        assertThat((String) dead.getMessageProperties().getHeader("arDeadLetterReason")).startsWith("invalid_message");
    }

    @Test
    void rabbitConsumersCallTheirListenerWithoutARetryAdvice() {
        // the consumers settle each delivery themselves; camel-spring-rabbitmq's retry advice would run a
        // delivery that failed on the consumer's thread through the route again (tests above: they consume)
        SpringRabbitMQComponent component = camel.getComponent("spring-rabbitmq", SpringRabbitMQComponent.class);
        assertThat(component.getListenerContainerFactory()).isInstanceOf(ListenerContainersWithoutRetry.class);
        SpringRabbitMQEndpoint intake = camel.getRoutes().stream()
                .filter(route -> route.getRouteId().startsWith("intake-queue-"))
                .map(route -> (SpringRabbitMQEndpoint) route.getEndpoint())
                .findFirst().orElseThrow();
        // (the advice chain has no public getter: read as a field)
        assertThat(component.getListenerContainerFactory().createListenerContainer(intake))
                .extracting("adviceChain", InstanceOfAssertFactories.ARRAY).isEmpty();
        // the component's own factory would have wrapped it
        assertThat(new DefaultListenerContainerFactory().createListenerContainer(intake))
                .extracting("adviceChain", InstanceOfAssertFactories.ARRAY).hasSize(1);
    }

    @Test
    void onPostgresStoredOrderKeepsASequenceCacheOfOne() {
        // a PostgreSQL sequence cache is per session: values would no longer follow the order rows landed in
        assertThat(jdbc.queryForObject("SELECT seqcache FROM pg_sequence"
                + " WHERE seqrelid = pg_get_serial_sequence('ar_message', 'stored_order')::regclass", Long.class)).isEqualTo(1L);
    }

    @Test
    void partitionOwnershipListensToTheContextsLifecycleOnly() {
        // its notifier starts ownership (the partitions are consumed: the tests above) and asks for nothing else
        assertThat(OperationsEndpointsTest.exchangeEventListeners(camel)).isEmpty();
    }

    @Test
    void healthReportsDatabaseRedisAndBroker() throws Exception {
        JsonNode health = Json.MAPPER.readTree(Http.get("http://127.0.0.1:" + port + "/actuator/health").body());
        assertThat(health.path("status").asText()).isEqualTo("UP");
        assertThat(health.path("components").path("db").path("details").path("database").asText()).isEqualTo("PostgreSQL");
        assertThat(health.path("components").path("redis").path("status").asText()).isEqualTo("UP");
        assertThat(health.path("components").path("rabbit").path("status").asText()).isEqualTo("UP");
    }

    @Test
    void cleanupRunsOnTheClusteredQuartzJobStoreInPostgres() throws Exception {
        org.quartz.Scheduler scheduler = camel.getComponent("quartz", org.apache.camel.component.quartz.QuartzComponent.class)
                .getScheduler();
        assertThat(scheduler.getMetaData().isJobStoreClustered()).isTrue();
        assertThat(jdbc.queryForObject("SELECT COUNT(*) FROM qrtz_triggers WHERE trigger_name = 'cleanup-expired'", Integer.class))
                .isEqualTo(1);
    }
}
