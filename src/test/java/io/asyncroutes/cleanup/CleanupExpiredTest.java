package io.asyncroutes.cleanup;

import static org.assertj.core.api.Assertions.assertThat;

import io.asyncroutes.state.RedisTtlSweep;
import io.asyncroutes.support.EmbeddedProfileTest;
import io.micrometer.core.instrument.MeterRegistry;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.camel.CamelContext;
import org.apache.camel.builder.NotifyBuilder;
import org.apache.camel.component.quartz.QuartzComponent;
import org.junit.jupiter.api.Test;
import org.quartz.JobKey;
import org.quartz.Scheduler;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.data.redis.core.StringRedisTemplate;
import org.springframework.jdbc.core.JdbcTemplate;

/**
 * cleanup-expired on the embedded default: the real Quartz job of the route is fired now (the
 * default cron ticks once a minute) and must delete rows past retention, keep newer ones, give
 * TTL-less Redis keys a TTL, and count what it removed.
 */
class CleanupExpiredTest extends EmbeddedProfileTest {

    @Autowired
    CamelContext camel;
    @Autowired
    JdbcTemplate jdbc;
    @Autowired
    StringRedisTemplate redis;
    @Autowired
    Scheduler scheduler;
    @Autowired
    MeterRegistry meters;

    @Test
    void removesRowsPastRetentionKeepsNewerOnesAndCountsThem() throws Exception {
        // Camel's quartz component runs on Spring Boot's scheduler (the one the lifecycle owns)
        assertThat(camel.getComponent("quartz", QuartzComponent.class).getScheduler()).isSameAs(scheduler);

        String thread = "cleanup-" + UUID.randomUUID();
        Instant now = Instant.now();
        insert(thread + "-old1", thread, now.minus(Duration.ofDays(8)));
        insert(thread + "-old2", thread, now.minus(Duration.ofDays(7)).minusSeconds(60));
        insert(thread + "-new", thread, now.minus(Duration.ofDays(6)));
        String stray = "ar:history:" + thread;
        redis.opsForList().rightPush(stray, "{\"id\":\"x\"}"); // no TTL: the sweep must give it one
        double rowsBefore = counter(CleanupService.KIND_ROWS);

        NotifyBuilder ticked = new NotifyBuilder(camel).fromRoute("cleanup-expired").whenCompleted(1).create();
        scheduler.triggerJob(JobKey.jobKey("cleanup-expired", "async-routes"));
        assertThat(ticked.matches(10, TimeUnit.SECONDS)).isTrue();

        assertThat(jdbc.queryForList("SELECT id FROM ar_message WHERE thread_id = ?", String.class, thread))
                .containsExactly(thread + "-new");
        assertThat(redis.getExpire(stray)).isPositive();
        assertThat(counter(CleanupService.KIND_ROWS) - rowsBefore).isGreaterThanOrEqualTo(2);
        assertThat(counter(RedisTtlSweep.NAME)).isGreaterThanOrEqualTo(1);
    }

    @Test
    void registeredTasksRunAndOneFailingTaskDoesNotStopTheOthers() {
        CleanupService service = new CleanupService(Duration.ofDays(7), () -> java.util.List.of(
                task("broken", () -> { throw new IllegalStateException("boom"); }),
                task("idle-state", () -> 3L)), meters);
        org.apache.camel.Exchange exchange = new org.apache.camel.support.DefaultExchange(camel);
        exchange.getMessage().setHeader("CamelSqlUpdateCount", 4);
        Map<String, Long> removed = service.finish(exchange);
        assertThat(removed).containsEntry(CleanupService.KIND_ROWS, 4L).containsEntry("idle-state", 3L)
                .doesNotContainKey("broken");
    }

    private static CleanupTask task(String name, java.util.function.LongSupplier work) {
        return new CleanupTask() {
            public String name() { return name; }
            public long cleanup(Instant now) { return work.getAsLong(); }
        };
    }

    private double counter(String kind) {
        var c = meters.find(CleanupService.METRIC).tag("kind", kind).counter();
        return c == null ? 0 : c.count();
    }

    private void insert(String id, String thread, Instant receivedAt) {
        jdbc.update("INSERT INTO ar_message (id, thread_id, status, received_at, result) VALUES (?, ?, 'processed', ?, '{}')",
                id, thread, Timestamp.from(receivedAt));
    }
}
