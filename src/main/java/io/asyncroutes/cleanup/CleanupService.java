package io.asyncroutes.cleanup;

import io.asyncroutes.message.ExchangeProperties;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.apache.camel.Exchange;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The steps of route {@code cleanup-expired} (routes/cleanup.yaml) that are not plain SQL:
 * computing the retention cut-off for the tick, running the registered {@link CleanupTask}s,
 * and logging and counting what was removed ({@value #METRIC}, tagged by {@code kind}).
 *
 * <p>The tick time is Quartz's <em>scheduled</em> fire time, not the wall clock, so every
 * instance and every retry of a tick computes the same cut-off.
 */
public class CleanupService {

    public static final String METRIC = "ar.cleanup.removed";
    /** Kind tag of the database rows past retention. */
    public static final String KIND_ROWS = "db-rows";

    private static final Logger LOG = LoggerFactory.getLogger(CleanupService.class);

    private final Duration retention;
    private final Supplier<List<CleanupTask>> tasks;
    private final MeterRegistry meters;

    /** {@code tasks} is asked on every tick, so tasks registered after start are picked up. */
    public CleanupService(Duration retention, Supplier<List<CleanupTask>> tasks, MeterRegistry meters) {
        this.retention = retention;
        this.tasks = tasks;
        this.meters = meters;
        // visible (at 0) from the start, so dashboards and alerts need not wait for the first removal
        counter(KIND_ROWS);
    }

    /** Rows received before this are past retention; the value bound to {@code :#cutoff}. */
    public Timestamp cutoff(Exchange exchange) {
        Instant tick = tick(exchange);
        exchange.setProperty(ExchangeProperties.CLEANUP_TICK, tick);
        return Timestamp.from(tick.minus(retention));
    }

    /**
     * After the SQL delete: runs the registered tasks (one failing task does not stop the others),
     * logs and counts everything, and returns the per-kind counts (the exchange's new body).
     */
    public Map<String, Long> finish(Exchange exchange) {
        Instant tick = exchange.getProperty(ExchangeProperties.CLEANUP_TICK, Instant.class);
        if (tick == null) {
            tick = tick(exchange);
        }
        Map<String, Long> removed = new LinkedHashMap<>();
        Integer rows = exchange.getMessage().getHeader("CamelSqlUpdateCount", Integer.class);
        removed.put(KIND_ROWS, rows == null ? 0L : rows.longValue());
        for (CleanupTask task : tasks.get()) {
            try {
                removed.merge(task.name(), task.cleanup(tick), Long::sum);
            } catch (RuntimeException e) {
                // the next tick tries again; the other tasks still run
                LOG.warn("Cleanup task {} failed: {}", task.name(), e.toString());
            }
        }
        removed.forEach((kind, n) -> {
            if (n > 0) {
                counter(kind).increment(n);
            }
        });
        long total = removed.values().stream().mapToLong(Long::longValue).sum();
        if (total > 0) {
            LOG.info("Cleanup at {} removed {}", tick, removed);
        } else {
            LOG.debug("Cleanup at {}: nothing expired", tick);
        }
        return removed;
    }

    private Counter counter(String kind) {
        return Counter.builder(METRIC).description("Expired entries removed by cleanup-expired")
                .tag("kind", kind).register(meters);
    }

    private static Instant tick(Exchange exchange) {
        java.util.Date scheduled = exchange.getMessage().getHeader("scheduledFireTime", java.util.Date.class);
        return scheduled != null ? scheduled.toInstant() : Instant.now();
    }
}
