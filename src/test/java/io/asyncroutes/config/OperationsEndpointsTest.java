package io.asyncroutes.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.asyncroutes.support.EmbeddedProfileTest;
import io.asyncroutes.support.Http;
import io.asyncroutes.support.Json;
import java.time.Duration;
import org.apache.camel.ManagementStatisticsLevel;
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
    void prometheusExposesCamelRouteMetrics() {
        assertThat(Http.postJson("http://127.0.0.1:" + port + "/api/messages",
                "{\"threadId\":\"metrics\",\"content\":\"count me\"}").statusCode()).isEqualTo(202);

        String metrics = await().atMost(Duration.ofSeconds(10)).until(
                () -> Http.get("http://127.0.0.1:" + port + "/actuator/prometheus").body(),
                body -> body.lines().anyMatch(l -> l.startsWith("camel_exchanges_total") && l.contains("routeId=\"handle-message\"")));
        assertThat(metrics).contains("routeId=\"persist-message\"", "routeId=\"api-post-message\"");
        // the sub-routes every message passes through are timed by their callers only (camel.metrics.route-policy-exclude-pattern)
        assertThat(metrics).doesNotContain("routeId=\"order-by-thread\"", "routeId=\"publish-result\"");
    }

    @Test
    void jmxCountsPerRouteNotPerProcessor() {
        // per-processor counters cost every message a wrapper per step; the routes' own counters stay
        // for operators (the suite itself runs with JMX off, so the bound setting is what is checked)
        assertThat(camelProperties.getMain().getJmxManagementStatisticsLevel())
                .isEqualTo(ManagementStatisticsLevel.RoutesOnly);
    }
}
