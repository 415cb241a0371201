package io.asyncroutes.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;
import org.springframework.data.redis.core.Cursor;
import org.springframework.data.redis.core.ScanOptions;
import org.springframework.data.redis.core.StringRedisTemplate;

/** The membership and lease scripts against this machine's real Redis (own key prefix). */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class PartitionLeasesTest {

    private static final String PREFIX = "ar-scale-leases:";

    private LettuceConnectionFactory factory;
    private StringRedisTemplate redis;

    @BeforeAll
    void connect() {
        factory = new LettuceConnectionFactory("127.0.0.1", 6379);
        factory.afterPropertiesSet();
        redis = new StringRedisTemplate(factory);
        wipe();
    }

    @AfterAll
    void disconnect() {
        wipe();
        factory.destroy();
    }

    @Test
    void aLeaseIsTakenOnceRenewedAndDeletedOnlyByItsHolder() {
        PartitionLeases leases = new PartitionLeases(redis, PREFIX, Duration.ofSeconds(30));
        assertThat(leases.acquire(3, "a")).isTrue();
        assertThat(leases.acquire(3, "b")).as("held by a").isFalse();
        assertThat(leases.renew(3, "b")).as("b cannot extend a's lease").isFalse();
        assertThat(leases.renew(3, "a")).isTrue();
        leases.release(3, "b"); // not b's: nothing happens
        assertThat(leases.owners(4)).containsExactly(null, null, null, "a");
        assertThat(redis.getExpire(PREFIX + "partitions:lease:3")).isPositive();
        leases.release(3, "a");
        assertThat(leases.owners(4)).containsOnlyNulls();
        assertThat(leases.acquire(3, "b")).isTrue();
    }

    @Test
    void aLeaseRunsOutWithoutRenewalAndItsHolderTakesItBackIfNobodyElseDid() {
        PartitionLeases leases = new PartitionLeases(redis, PREFIX, Duration.ofMillis(300));
        assertThat(leases.acquire(7, "a")).isTrue();
        await().atMost(Duration.ofSeconds(5)).until(() -> leases.owners(8).get(7) == null);
        assertThat(leases.renew(7, "a")).as("ran out, nobody took it").isTrue();
        await().atMost(Duration.ofSeconds(5)).until(() -> leases.owners(8).get(7) == null);
        assertThat(leases.acquire(7, "b")).isTrue();
        assertThat(leases.renew(7, "a")).as("b took it meanwhile").isFalse();
    }

    @Test
    void membersAreListedSortedAndGoneWhenTheyStopRenewing() {
        PartitionLeases shortLived = new PartitionLeases(redis, PREFIX + "m:", Duration.ofMillis(300));
        PartitionLeases longLived = new PartitionLeases(redis, PREFIX + "m:", Duration.ofSeconds(30));
        shortLived.heartbeat("zz-short");
        assertThat(longLived.heartbeat("b-long")).containsExactly("b-long", "zz-short");
        assertThat(redis.getExpire(PREFIX + "m:partitions:members")).isPositive();
        await().atMost(Duration.ofSeconds(5)).until(() -> longLived.heartbeat("b-long").equals(List.of("b-long")));
        longLived.heartbeat("a-long");
        assertThat(longLived.heartbeat("b-long")).containsExactly("a-long", "b-long");
        longLived.leave("a-long");
        assertThat(longLived.heartbeat("b-long")).containsExactly("b-long");
    }

    @Test
    void onlyPlainInstanceIdsAreAccepted() {
        assertThat(PartitionLeases.requireValidInstanceId("host-1.example:8080_a")).isEqualTo("host-1.example:8080_a");
        for (String hostile : Arrays.asList(null, "", "a b", "a*", "x\r\nDEL *", "é", "a".repeat(129), "{a}")) {
            assertThatThrownBy(() -> PartitionLeases.requireValidInstanceId(hostile)).as("%s", hostile)
                    .isInstanceOf(IllegalArgumentException.class);
        }
    }

    private void wipe() {
        try (Cursor<String> keys = redis.scan(ScanOptions.scanOptions().match(PREFIX + "*").count(500).build())) {
            keys.forEachRemaining(redis::delete);
        }
    }
}
