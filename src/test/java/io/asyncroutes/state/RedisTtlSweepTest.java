package io.asyncroutes.state;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.data.redis.connection.RedisConnection;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;
import org.springframework.data.redis.core.StringRedisTemplate;

/** The TTL sweep on this machine's Redis: bounded work per tick, resumed on the next, every stray key found. */
class RedisTtlSweepTest {

    static LettuceConnectionFactory factory;
    static StringRedisTemplate redis;
    static final String PREFIX = "ar-sweep-" + UUID.randomUUID() + ":";

    @BeforeAll
    static void connect() {
        factory = new LettuceConnectionFactory("127.0.0.1", 6379);
        factory.afterPropertiesSet();
        factory.start();
        redis = new StringRedisTemplate(factory);
    }

    @AfterAll
    static void cleanUp() {
        var keys = redis.keys(PREFIX + "*");
        if (keys != null && !keys.isEmpty()) {
            redis.delete(keys);
        }
        factory.destroy();
    }

    @Test
    void straysGetTheirFamilysTtlOverSeveralBoundedTicksAndKeysWithTtlKeepTheirs() {
        int strays = 3000;
        Map<String, String> batch = new HashMap<>();
        for (int i = 0; i < strays; i++) {
            batch.put(PREFIX + "idem:" + i, "1");
        }
        redis.opsForValue().multiSet(batch);
        redis.opsForValue().set(PREFIX + "idem:kept", "1", Duration.ofSeconds(500));
        redis.opsForValue().set(PREFIX + "other:no-ttl", "1"); // not one of the families

        RedisTtlSweep sweep = new RedisTtlSweep(redis, Map.of(PREFIX + "idem:*", Duration.ofHours(2)), 1000);
        long fixed = sweep.cleanup(Instant.now());
        // 3 000 keys do not fit in a budget of 1 000 slots: this tick stopped at its budget
        assertThat(sweep.passComplete()).isFalse();
        int ticks = 1;
        while (!sweep.passComplete() && ticks < 10_000) {
            fixed += sweep.cleanup(Instant.now());
            ticks++;
        }
        assertThat(sweep.passComplete()).isTrue();
        assertThat(ticks).isGreaterThan(1);
        assertThat(fixed).isEqualTo(strays);
        assertThat(redis.getExpire(PREFIX + "idem:0")).isBetween(7000L, 7200L);
        assertThat(redis.getExpire(PREFIX + "idem:" + (strays - 1))).isBetween(7000L, 7200L);
        assertThat(redis.getExpire(PREFIX + "idem:kept")).isBetween(400L, 500L);
        assertThat(redis.getExpire(PREFIX + "other:no-ttl")).isEqualTo(-1L);

        // the next pass finds nothing left to fix
        long again = 0;
        do {
            again += sweep.cleanup(Instant.now());
        } while (!sweep.passComplete());
        assertThat(again).isZero();
    }
}
