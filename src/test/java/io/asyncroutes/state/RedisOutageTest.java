package io.asyncroutes.state;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.asyncroutes.support.FaultInjectionTest;
import io.asyncroutes.support.Http;
import io.asyncroutes.support.Json;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.camel.CamelContext;
import org.apache.camel.builder.NotifyBuilder;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.data.redis.core.StringRedisTemplate;
import org.springframework.jdbc.core.JdbcTemplate;
import io.asyncroutes.config.EmbeddedRedisConfiguration;

/**
 * README "What happens when…": Redis restarted while messages arrive. Intake keeps accepting (the REST
 * intake only needs the broker), handling fails transiently and the broker redelivers with
 * backoff, health shows Redis DOWN; once Redis is back every message is handled and stored
 * exactly once and its turn is in the thread history. The Redis here is this context's own
 * embedded server (never the machine's shared one).
 */
class RedisOutageTest extends FaultInjectionTest {

    private static final int MESSAGES = 20;

    @LocalServerPort
    int port;
    @Autowired
    CamelContext camel;
    @Autowired
    JdbcTemplate jdbc;
    @Autowired
    StringRedisTemplate redis;
    @Autowired
    EmbeddedRedisConfiguration.EmbeddedRedis redisServer;

    @Test
    void messagesArrivingWhileRedisIsDownAreHandledOnceItReturns() throws Exception {
        String thread = "redis-outage-" + UUID.randomUUID();
        NotifyBuilder failedWhileDown = new NotifyBuilder(camel).fromRoute("intake-queue").whenFailed(1).create();

        redisServer.stop();
        try {
            await().atMost(Duration.ofSeconds(20)).until(() -> "DOWN".equals(redisHealth()));
            for (int i = 1; i <= MESSAGES; i++) {
                assertThat(Http.postJson(api(), "{\"id\":\"" + thread + "-" + i + "\",\"threadId\":\"" + thread
                        + "\",\"seq\":" + i + ",\"content\":\"m" + i + "\"}").statusCode()).isEqualTo(202);
            }
            // handling needs Redis (idempotency, history): it fails and is rolled back, nothing is handled
            assertThat(failedWhileDown.matches(20, TimeUnit.SECONDS)).isTrue();
            assertThat(rows(thread)).isZero();
        } finally {
            redisServer.start();
        }

        await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(200)).ignoreExceptions()
                .until(() -> rows(thread) == MESSAGES);
        assertThat(jdbc.queryForObject("SELECT COUNT(DISTINCT id) FROM ar_message WHERE thread_id = ?", Integer.class, thread))
                .isEqualTo(MESSAGES);
        await().atMost(Duration.ofSeconds(10)).until(() -> redis.opsForList().size("ar:history:" + thread) == MESSAGES);
        await().atMost(Duration.ofSeconds(20)).until(() -> "UP".equals(redisHealth()));
    }

    private String api() {
        return "http://127.0.0.1:" + port + "/api/messages";
    }

    private int rows(String thread) {
        return jdbc.queryForObject("SELECT COUNT(*) FROM ar_message WHERE thread_id = ?", Integer.class, thread);
    }

    private String redisHealth() throws Exception {
        JsonNode health = Json.MAPPER.readTree(Http.get("http://127.0.0.1:" + port + "/actuator/health").body());
        return health.path("components").path("redis").path("status").asText();
    }
}
