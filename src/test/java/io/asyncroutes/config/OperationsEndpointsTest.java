package io.asyncroutes.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.asyncroutes.support.EmbeddedProfileTest;
import io.asyncroutes.support.Http;
import io.asyncroutes.support.Json;
import jakarta.jms.Connection;
import jakarta.jms.ConnectionFactory;
import jakarta.jms.Session;
import java.time.Duration;
import java.util.List;
import org.apache.activemq.artemis.core.server.embedded.EmbeddedActiveMQ;
import org.apache.activemq.artemis.core.settings.impl.AddressSettings;
import org.apache.camel.CamelContext;
import org.apache.camel.ManagementStatisticsLevel;
import org.apache.camel.builder.NotifyBuilder;
import org.apache.camel.spi.EventNotifier;
import org.apache.camel.spring.boot.CamelConfigurationProperties;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.web.server.LocalServerPort;

/** Actuator health covers database, broker and Redis; Prometheus metrics include Camel route metrics. */
class OperationsEndpointsTest extends EmbeddedProfileTest {

    @LocalServerPort
    int port;

    @Autowired
    CamelConfigurationProperties camelProperties;
    @Autowired
    CamelContext camel;
    @Autowired
    ConnectionFactory connectionFactory;
    @Autowired
    EmbeddedActiveMQ embeddedBroker;

    @Test
    void healthCoversDatabaseBrokerAndRedis() throws Exception {
        JsonNode health = Json.MAPPER.readTree(Http.get("http://127.0.0.1:" + port + "/actuator/health").body());

        assertThat(health.path("status").asText()).isEqualTo("UP");
        JsonNode components = health.path("components");
        assertThat(components.path("db").path("status").asText()).isEqualTo("UP");
        assertThat(components.path("jms").path("status").asText()).isEqualTo("UP");
        assertThat(components.path("redis").path("status").asText()).isEqualTo("UP");
        assertThat(components.path("camelHealth").path("status").asText()).isEqualTo("UP");
        // the embedded default talks to no RabbitMQ
        assertThat(components.has("rabbit")).isFalse();
    }

    @Test
    void theResultsQueueHasLimitsOfItsOwnOnTheEmbeddedBroker() {
        // JmsBrokerConfiguration.resultsQueueLimits (its effect: ResultsQueueLimitsTest)
        AddressSettings results = embeddedBroker.getActiveMQServer().getAddressSettingsRepository().getMatch("ar.results");
        assertThat(results.getMaxSizeBytes()).isEqualTo(32L * 1024 * 1024);
        assertThat(results.getPageLimitMessages()).isEqualTo(1_000_000L);
        // merged with the redelivery settings of every ar.* address
        assertThat(results.getRedeliveryDelay()).isEqualTo(500);
        // the pipeline's own queues only have the broker's global limit
        assertThat(embeddedBroker.getActiveMQServer().getAddressSettingsRepository().getMatch("ar.in").getMaxSizeBytes())
                .isEqualTo(-1);
    }

    @Test
    void jmsSendersLookUpEachQueueOnce() throws Exception {
        // the sessions the routes send on: a queue looked up once is not asked of the broker again
        // (JmsBrokerConfiguration.cacheDestinations), the same object comes back
        try (Connection connection = connectionFactory.createConnection(); Session session = connection.createSession()) {
            assertThat(session.createQueue("ar.results")).isSameAs(session.createQueue("ar.results"));
        }
    }

    @Test
    void prometheusExposesCamelRouteMetrics() {
        assertThat(Http.postJson("http://127.0.0.1:" + port + "/api/messages",
                "{\"threadId\":\"metrics\",\"content\":\"count me\"}").statusCode()).isEqualTo(202);

        String metrics = await().atMost(Duration.ofSeconds(10)).until(
                () -> Http.get("http://127.0.0.1:" + port + "/actuator/prometheus").body(),
                body -> body.lines().anyMatch(l -> l.startsWith("camel_exchanges_total") && l.contains("routeId=\"handle-message\"")));
        assertThat(metrics).contains("routeId=\"persist-message\"", "routeId=\"api-post-message\"");
        // the sub-routes every message passes through are timed by their callers only (camel.metrics.route-policy-exclude-pattern)
        assertThat(metrics).doesNotContain("routeId=\"order-by-thread\"", "routeId=\"publish-result\"");
        // and so is the intake route, whose one step is handle-message: one timer per message, not two
        assertThat(metrics).doesNotContain("routeId=\"intake-queue\"");
    }

    @Test
    void jmxCountsPerRouteNotPerProcessor() {
        // per-processor counters cost every message a wrapper per step; the routes' own counters stay
        // for operators (the suite itself runs with JMX off, so the bound setting is what is checked)
        assertThat(camelProperties.getMain().getJmxManagementStatisticsLevel())
                .isEqualTo(ManagementStatisticsLevel.RoutesOnly);
    }

    /**
     * While one event notifier asks for exchange events, Camel builds an event object at every step of
     * every exchange (sent, sending, created, completed) and times each send; the application's own
     * notifiers ask only for what they use, and the one the Spring Boot starter adds for
     * {@code CamelContextConfiguration}s stops asking once the context has started.
     */
    @Test
    void noEventNotifierAsksForEveryExchangeEvent() {
        assertThat(exchangeEventListeners(camel)).isEmpty();
        if (camel.getManagementStrategy().getEventNotifiers().stream()
                .noneMatch(notifier -> notifier.getClass().getEnclosingClass() == NotifyBuilder.class)) {
            // (a test of the same Spring context may have left a NotifyBuilder, which wants them)
            assertThat(camel.getCamelContextExtension().isEventNotificationApplicable()).isFalse();
        }
    }

    @Test
    void lettuceCommandLatencyIsNotTimedPerCommand() {
        // a Micrometer timer lookup on every Redis reply; Redis reports its own command latency
        assertThat(Http.get("http://127.0.0.1:" + port + "/actuator/prometheus").body()).doesNotContain("lettuce_command");
    }

    /** The context's event notifiers that want exchange events, but a test's own {@link NotifyBuilder}s. */
    static List<String> exchangeEventListeners(CamelContext camel) {
        return camel.getManagementStrategy().getEventNotifiers().stream()
                .filter(notifier -> !notifier.isIgnoreExchangeEvents() && !notifier.isDisabled())
                .filter(notifier -> notifier.getClass().getEnclosingClass() != NotifyBuilder.class)
                .map(EventNotifier::toString)
                .toList();
    }
}
