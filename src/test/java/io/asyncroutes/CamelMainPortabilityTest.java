package io.asyncroutes;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.asyncroutes.api.ApiRoutes;
import io.asyncroutes.chat.ChatRoutes;
import io.asyncroutes.chat.LlmClient;
import io.asyncroutes.cleanup.CleanupService;
import io.asyncroutes.fetch.FetchRoutes;
import io.asyncroutes.fetch.HttpRetryConfiguration;
import io.asyncroutes.intake.MessageValidator;
import io.asyncroutes.ordering.OrderingRoutes;
import io.asyncroutes.ordering.RedisSeqStore;
import io.asyncroutes.persistence.PersistRoutes;
import io.asyncroutes.pipeline.HandleRoutes;
import io.asyncroutes.settings.AppSettings;
import io.asyncroutes.state.HandledRecord;
import io.asyncroutes.state.MessageIdRepository;
import io.asyncroutes.state.RedisTtlSweep;
import io.asyncroutes.state.StateRoutes;
import io.asyncroutes.state.ThreadHistory;
import io.asyncroutes.support.EmbeddedProfileTest;
import io.asyncroutes.support.Http;
import io.asyncroutes.support.SharedRouteConfigurations;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.stream.Stream;
import org.apache.camel.CamelContext;
import org.apache.camel.ServiceStatus;
import org.apache.camel.builder.NotifyBuilder;
import org.apache.camel.main.Main;
import org.flywaydb.core.Flyway;
import org.h2.jdbcx.JdbcDataSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;
import org.springframework.data.redis.core.StringRedisTemplate;
import org.springframework.jdbc.core.JdbcTemplate;
import org.yaml.snakeyaml.Yaml;

/**
 * The portability seam (README "Portability"): the Java route builders and every YAML file under
 * {@code routes/} load and run in plain camel-main, without Spring Boot, with the queues mapped to
 * SEDA, an H2 database migrated by Flyway, the machine's real Redis and camel-main's own HTTP
 * server. A typo in any YAML route fails this test.
 */
class CamelMainPortabilityTest {

    private Main main;
    private LettuceConnectionFactory redis;

    @AfterEach
    void tearDown() {
        if (main != null) {
            main.stop();
        }
        if (redis != null) {
            redis.destroy();
        }
    }

    @Test
    void everyRouteStartsInPlainCamelMainAndAMessageGoesEndToEnd() throws Exception {
        AppSettings settings = new AppSettings();
        JdbcDataSource dataSource = new JdbcDataSource();
        dataSource.setURL("jdbc:h2:mem:portable;MODE=PostgreSQL;DATABASE_TO_LOWER=TRUE;DEFAULT_NULL_ORDERING=HIGH;DB_CLOSE_DELAY=-1");
        Flyway.configure().dataSource(dataSource).load().migrate();
        redis = new LettuceConnectionFactory("127.0.0.1", 6379);
        redis.afterPropertiesSet();
        MessageIdRepository ids = new MessageIdRepository(new StringRedisTemplate(redis), "ar-main:idem", Duration.ofMinutes(1));
        RedisSeqStore seqStore = new RedisSeqStore(new StringRedisTemplate(redis), "ar-main:", Duration.ofMinutes(1));
        MessageValidator validator = new MessageValidator(settings.getLimits());
        int port = EmbeddedProfileTest.freePort();

        main = new Main();
        main.bind("dataSource", dataSource);
        main.bind(PersistRoutes.ACKNOWLEDGEMENT, new io.asyncroutes.intake.InboundAcknowledgement(
                settings.getIntake().getRedeliveryDelay(), settings.getIntake().getRedeliveryMaxDelay()));
        main.configure().addRoutesBuilder(new SharedRouteConfigurations(settings.getPersistence().getRetryInitialDelay(),
                settings.getPersistence().getRetryMaxDelay()));
        main.configure().addRoutesBuilder(new HttpRetryConfiguration(settings.getRetry()));
        main.configure().addRoutesBuilder(new HandleRoutes(validator, ids, settings));
        main.configure().addRoutesBuilder(new OrderingRoutes(OrderingRoutes.forMessageResults(settings.getOrdering(),
                seqStore, new SimpleMeterRegistry())));
        main.configure().addRoutesBuilder(new PersistRoutes(settings));
        main.configure().addRoutesBuilder(new ApiRoutes(validator, settings));
        StringRedisTemplate template = new StringRedisTemplate(redis);
        ThreadHistory history = new ThreadHistory(template, "ar-main:", 50, Duration.ofMinutes(5));
        main.configure().addRoutesBuilder(new StateRoutes(new HandledRecord(template, history, ids, seqStore)));
        main.configure().addRoutesBuilder(new FetchRoutes(settings.getFetch()));
        main.configure().addRoutesBuilder(new ChatRoutes(new LlmClient(settings.getLlm()), history));
        main.bind("cleanupService", new CleanupService(settings.getRetention(),
                () -> List.of(new RedisTtlSweep(template, Map.of(history.keyPattern(), history.ttl()))),
                new SimpleMeterRegistry()));
        main.configure().withRoutesIncludePattern("file:routes/*.yaml");
        // whoever reads the results: an in-memory seda copy carries the exchange's completions (the
        // idempotency key among them), which run when the copy is consumed
        main.configure().addRoutesBuilder(new org.apache.camel.builder.RouteBuilder() {
            @Override
            public void configure() {
                from("seda:results").routeId("test-results-reader").to("log:results?level=DEBUG");
            }
        });
        Properties props = new Properties();
        props.putAll(Map.of(
                "app.endpoints.inbound", "seda:in?concurrentConsumers=4",
                "app.endpoints.inbound-publish", "seda:in",
                "app.endpoints.persist", "seda:persist?concurrentConsumers=16",
                "app.endpoints.persist-publish", "seda:persist",
                "app.endpoints.results", "seda:results",
                "app.endpoints.dead-letter", "seda:dead-letter",
                "app.cleanup.cron", "0/1 * * * * ?",
                "camel.server.enabled", "true",
                "camel.server.host", "127.0.0.1",
                "camel.server.port", String.valueOf(port)));
        main.setInitialProperties(props);
        main.start();
        CamelContext camel = main.getCamelContext();

        List<String> expected = new ArrayList<>(List.of("handle-message", "order-by-thread", "persist-handoff", "publish-result", "persist-message",
                "persist-batch", "persist-one", "append-history", "api-post-message", "api-get-message", "api-thread-messages",
                "fetch-context", "fetch-all", "fetch-one", "fetch-attempt", "api-fetch", "chat-stream", "chat-reply", "api-chat"));
        expected.addAll(yamlRouteIds());
        assertThat(expected).contains("intake-queue", "dead-letter", "cleanup-expired");
        for (String id : expected) {
            assertThat(camel.getRouteController().getRouteStatus(id)).as(id).isEqualTo(ServiceStatus.Started);
        }

        String response = Http.postJson("http://127.0.0.1:" + port + "/api/messages",
                "{\"threadId\":\"portable\",\"content\":\"no spring here\"}").body();
        String id = response.replaceAll(".*\"id\":\"([^\"]+)\".*", "$1");
        JdbcTemplate jdbc = new JdbcTemplate(dataSource);
        await().atMost(Duration.ofSeconds(10)).until(() ->
                jdbc.queryForObject("SELECT COUNT(*) FROM ar_message WHERE id = ?", Integer.class, id) == 1);
        assertThat(Http.get("http://127.0.0.1:" + port + "/api/messages/" + id).body()).contains("\"status\":\"processed\"");
        // written once the hand-off is durable, which may be after the row is there
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
                assertThat(history.recent("portable", 10)).anyMatch(turn -> turn.contains("no spring here")));
        // the id is remembered: the same message again is a duplicate, not a second row
        await().atMost(Duration.ofSeconds(10)).until(() -> Boolean.TRUE.equals(template.hasKey("ar-main:idem:" + id)));
        NotifyBuilder resultRead = new NotifyBuilder(camel).fromRoute("test-results-reader").whenDone(1).create();
        Http.postJson("http://127.0.0.1:" + port + "/api/messages",
                "{\"id\":\"" + id + "\",\"threadId\":\"portable\",\"content\":\"no spring here\"}");
        assertThat(resultRead.matches(10, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
        assertThat(jdbc.queryForObject("SELECT COUNT(*) FROM ar_message WHERE id = ?", Integer.class, id)).isEqualTo(1);
        assertThat(Http.get("http://127.0.0.1:" + port + "/api/messages/" + id).body()).contains("\"status\":\"processed\"");

        // no LLM configured here: /api/chat says so with a 503, and a reply request is handled
        // with the reason in its error instead of failing
        var chat = Http.postJson("http://127.0.0.1:" + port + "/api/chat",
                "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"stream\":true}");
        assertThat(chat.statusCode()).as(chat.body()).isEqualTo(503);
        assertThat(chat.body()).contains("\"error\":\"llm_unavailable\"");
        String replyId = Http.postJson("http://127.0.0.1:" + port + "/api/messages",
                "{\"threadId\":\"portable\",\"content\":\"answer me\",\"reply\":true}").body()
                .replaceAll(".*\"id\":\"([^\"]+)\".*", "$1");
        await().atMost(Duration.ofSeconds(10)).until(() ->
                jdbc.queryForObject("SELECT COUNT(*) FROM ar_message WHERE id = ?", Integer.class, replyId) == 1);
        String stored = jdbc.queryForObject("SELECT result FROM ar_message WHERE id = ?", String.class, replyId);
        assertThat(stored).contains("\"status\":\"processed\"", "\"reply\":null", "no LLM is configured");
        // the YAML cleanup route ticks on camel-main's own Quartz scheduler too
        assertThat(new NotifyBuilder(camel).fromRoute("cleanup-expired").whenDone(2).create()
                .matches(10, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
    }

    /** The route ids declared in every YAML file under routes/. */
    @SuppressWarnings("unchecked")
    static List<String> yamlRouteIds() throws IOException {
        List<String> ids = new ArrayList<>();
        try (Stream<Path> files = Files.list(Path.of("routes"))) {
            for (Path file : files.filter(f -> f.toString().endsWith(".yaml")).sorted().toList()) {
                List<Map<String, Object>> items = new Yaml().load(Files.readString(file));
                for (Map<String, Object> item : items) {
                    Map<String, Object> route = (Map<String, Object>) item.get("route");
                    if (route != null) {
                        assertThat(route.get("id")).as("route without id in " + file).isNotNull();
                        ids.add((String) route.get("id"));
                    }
                }
            }
        }
        return ids;
    }
}
