package io.asyncroutes.state;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.asyncroutes.support.EmbeddedProfileTest;
import io.asyncroutes.support.Http;
import io.asyncroutes.support.Json;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.data.redis.core.StringRedisTemplate;

/** Thread history in the embedded default's Redis: written by handle-message, JSON, capped, with TTL. */
class ThreadHistoryTest extends EmbeddedProfileTest {

    @LocalServerPort
    int port;
    @Autowired
    StringRedisTemplate redis;
    @Autowired
    ThreadHistory history;

    @Test
    void handledMessageAppendsTheUserTurnAsJsonWithTtl() throws Exception {
        String thread = "hist-" + UUID.randomUUID();
        String id = thread + "-1";
        assertThat(Http.postJson("http://127.0.0.1:" + port + "/api/messages",
                "{\"id\":\"" + id + "\",\"threadId\":\"" + thread + "\",\"seq\":1,\"content\":\"hello redis\"}")
                .statusCode()).isEqualTo(202);

        String key = "ar:history:" + thread;
        await().atMost(Duration.ofSeconds(10)).until(() -> redis.opsForList().size(key) == 1);
        JsonNode turn = Json.MAPPER.readTree(redis.opsForList().index(key, 0));
        assertThat(turn.path("id").asText()).isEqualTo(id);
        assertThat(turn.path("seq").asLong()).isEqualTo(1);
        assertThat(turn.path("role").asText()).isEqualTo("user");
        assertThat(turn.path("content").asText()).isEqualTo("hello redis");
        assertThat(Instant.parse(turn.path("at").asText())).isBefore(Instant.now().plusSeconds(1));
        assertThat(redis.getExpire(key)).isBetween(Duration.ofDays(7).toSeconds() - 60, Duration.ofDays(7).toSeconds());
        assertThat(history.recent(thread, 10)).hasSize(1);
    }

    @Test
    void historyIsCappedOldestFirstAndAppendIsIdempotentById() throws Exception {
        String thread = "cap-" + UUID.randomUUID();
        int max = history.maxTurns();
        for (int i = 1; i <= max + 5; i++) {
            assertThat(history.append(thread, "t" + i, (long) i, ThreadHistory.ROLE_USER, "m" + i, Instant.now())).isTrue();
        }
        // a redelivered message does not add its turn twice
        assertThat(history.append(thread, "t" + (max + 5), (long) (max + 5), ThreadHistory.ROLE_USER, "again", Instant.now()))
                .isFalse();

        List<String> all = redis.opsForList().range(history.key(thread), 0, -1);
        assertThat(all).hasSize(max);
        assertThat(Json.MAPPER.readTree(all.get(0)).path("content").asText()).isEqualTo("m6");
        assertThat(Json.MAPPER.readTree(all.get(max - 1)).path("content").asText()).isEqualTo("m" + (max + 5));
        List<String> recent = history.recent(thread, 3);
        assertThat(recent).extracting(s -> Json.read(s, JsonNode.class).path("content").asText())
                .containsExactly("m" + (max + 3), "m" + (max + 4), "m" + (max + 5));
        assertThat(history.recent("never-seen-" + UUID.randomUUID(), 5)).isEmpty();
    }

    @Test
    void hostileThreadIdsNeverBecomeKeys() {
        for (String bad : new String[] {"a b", "x*", "", "../etc", "a\r\nFLUSHALL", "a".repeat(129), null}) {
            assertThatThrownBy(() -> history.key(bad)).isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> history.recent(bad, 1)).isInstanceOf(IllegalArgumentException.class);
        }
    }
}
