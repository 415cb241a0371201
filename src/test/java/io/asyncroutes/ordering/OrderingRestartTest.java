package io.asyncroutes.ordering;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.camel.Exchange;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;
import org.springframework.data.redis.core.StringRedisTemplate;

/**
 * The last handled seq survives a restart: kept in the machine's real Redis (127.0.0.1:6379) under
 * a unique key prefix, removed afterwards.
 */
class OrderingRestartTest {

    private final String prefix = "ar-test-" + UUID.randomUUID() + ":";
    private LettuceConnectionFactory connections;
    private StringRedisTemplate redis;
    private OrderingHarness harness;

    @BeforeEach
    void setUp() {
        connections = new LettuceConnectionFactory("127.0.0.1", 6379);
        connections.afterPropertiesSet();
        redis = new StringRedisTemplate(connections);
    }

    @AfterEach
    void tearDown() {
        if (harness != null) {
            harness.close();
        }
        redis.delete(redis.keys(prefix + "*"));
        connections.destroy();
    }

    @Test
    void lastHandledSeqIsKeptAcrossARestartAndAReplayIsADuplicate() throws Exception {
        harness = start();
        for (long seq = 1; seq <= 3; seq++) {
            assertThat(harness.send("restart-1", seq, 100).get(10, TimeUnit.SECONDS).getException()).isNull();
        }
        assertThat(redis.opsForValue().get(prefix + "seq:restart-1")).isEqualTo("3");
        assertThat(redis.getExpire(prefix + "seq:restart-1", TimeUnit.SECONDS)).isBetween(1L, 3600L);
        harness.close();

        harness = start(); // a fresh context and gate: only Redis remembers
        Exchange replay = harness.send("restart-1", 2L, 100).get(10, TimeUnit.SECONDS);
        assertThat(replay.getProperty(Exchange.DUPLICATE_MESSAGE, Boolean.class)).isTrue();
        assertThat(harness.send("restart-1", 4L, 100).get(10, TimeUnit.SECONDS).getException()).isNull();
        assertThat(harness.handled.get("restart-1")).containsExactly(4L);
        assertThat(harness.duplicates.get("restart-1")).containsExactly(2L);
        assertThat(harness.gapsSkipped()).as("seq 4 followed the remembered 3: no gap").isZero();
        assertThat(redis.opsForValue().get(prefix + "seq:restart-1")).isEqualTo("4");
    }

    @Test
    void threadIdsThatAreNotIdentifiersNeverBecomeKeys() {
        RedisSeqStore store = new RedisSeqStore(redis, prefix, Duration.ofMinutes(1));
        for (String hostile : List.of("a b", "x\r\nFLUSHALL", "*", "")) {
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> store.save(hostile, new SeqState(1)))
                    .isInstanceOf(IllegalArgumentException.class);
        }
        assertThat(redis.keys(prefix + "*")).isEmpty();
    }

    private OrderingHarness start() throws Exception {
        return new OrderingHarness(new RedisSeqStore(redis, prefix, Duration.ofHours(1)),
                Duration.ofSeconds(2), 16, 100, 1000, true, 1);
    }
}
