package io.asyncroutes.persistence;

import java.sql.Connection;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;
import org.h2.engine.SessionLocal;
import org.h2.jdbc.JdbcConnection;
import org.h2.mvstore.MVStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps the embedded H2 file from growing without bound. The default profile opens H2 with
 * {@code WRITE_DELAY=0}, so that every commit is written before it returns (a persist-queue message
 * is acknowledged only after its rows' commit). With that setting H2 runs no background writer, and
 * the background writer is also what compacts the store: each commit writes a new chunk of a few
 * pages, older chunks keep a few live pages each and are never freed, and the file grew by ~7 KB per
 * stored row (6.9 GB after 930 000 rows under load, for ~0.5 GB of data). This task does that
 * housekeeping instead: every {@code interval} it asks the store to rewrite the live pages of its
 * emptiest chunks ({@link MVStore#compact(int, int)}, H2's own compaction, under the store's lock);
 * chunks left without live pages are reused once H2's retention time (45 s) has passed.
 *
 * <p>Plain Java (no Spring, no Camel); started and stopped by the configuration that creates it.
 */
public class H2StoreCompaction {

    private static final Logger LOG = LoggerFactory.getLogger(H2StoreCompaction.class);

    /** Chunks whose live share is below this are rewritten. */
    static final int TARGET_FILL_RATE = 80;
    /** At most about this much rewritten per run, so that a run stays short next to the writer. */
    static final int WRITE_BYTES_PER_RUN = 16 << 20;

    private final DataSource dataSource;
    private final Duration interval;
    private ScheduledExecutorService scheduler;

    public H2StoreCompaction(DataSource dataSource, Duration interval) {
        this.dataSource = dataSource;
        this.interval = interval;
    }

    public synchronized void start() {
        if (interval.isZero() || scheduler != null) {
            return;
        }
        scheduler = Executors.newSingleThreadScheduledExecutor(runnable -> {
            Thread thread = new Thread(runnable, "h2-compaction");
            thread.setDaemon(true);
            return thread;
        });
        long millis = interval.toMillis();
        scheduler.scheduleWithFixedDelay(this::runOnce, millis, millis, TimeUnit.MILLISECONDS);
    }

    public synchronized void stop() throws InterruptedException {
        if (scheduler != null) {
            scheduler.shutdown();
            scheduler.awaitTermination(10, TimeUnit.SECONDS);
            scheduler = null;
        }
    }

    /** One compaction pass; true when H2 rewrote chunks. A failure is logged, never thrown (the next run tries again). */
    boolean runOnce() {
        try (Connection connection = dataSource.getConnection()) {
            MVStore store = store(connection);
            return store != null && store.compact(TARGET_FILL_RATE, WRITE_BYTES_PER_RUN);
        } catch (Exception e) {
            // the database down or closing: the writer's own retries report that; this waits for the next run
            LOG.debug("H2 compaction skipped: {}", e.toString());
            return false;
        }
    }

    /** The MVStore behind an embedded H2 connection, or null for anything else (a server, a pool of another database). */
    static MVStore store(Connection connection) throws java.sql.SQLException {
        if (!connection.isWrapperFor(JdbcConnection.class)) {
            return null;
        }
        if (!(connection.unwrap(JdbcConnection.class).getSession() instanceof SessionLocal session)) {
            return null;
        }
        var store = session.getDatabase().getStore();
        return store == null ? null : store.getMvStore();
    }
}
