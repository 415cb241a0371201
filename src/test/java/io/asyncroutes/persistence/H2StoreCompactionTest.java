package io.asyncroutes.persistence;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.sql.Timestamp;
import java.time.Duration;
import java.util.Objects;
import org.h2.jdbcx.JdbcDataSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * The H2 file of the default profile, written the way the group-commit writer writes it (batches of
 * 100 rows, a commit each, {@code WRITE_DELAY=0}), with and without {@link H2StoreCompaction}.
 */
class H2StoreCompactionTest {

    private static final int ROWS = 30_000;
    private static final int BATCH = 100;

    @TempDir
    Path dir;

    @Test
    void compactionKeepsTheFileSmallAndEveryRow() throws Exception {
        long without = write("plain", Duration.ZERO);
        long with = write("compacted", Duration.ofMillis(50));

        // the data itself is a few MB; without compaction each commit's chunk stays, with it they are reused
        assertThat(with).as("file with compaction (%d MB) against without (%d MB)", with >> 20, without >> 20)
                .isLessThan(without / 2);
    }

    @Test
    void anotherDatabaseIsLeftAlone() throws Exception {
        PGSimpleDataSource postgres = new PGSimpleDataSource();
        postgres.setUrl("jdbc:postgresql://127.0.0.1:5432/test");
        postgres.setUser("postgres");
        try (Connection connection = postgres.getConnection()) {
            assertThat(H2StoreCompaction.store(connection)).isNull();
        }
        assertThat(new H2StoreCompaction(postgres, Duration.ofSeconds(1)).runOnce()).isFalse();
    }

    /** Writes the rows into a new H2 file, compacted every {@code interval} (0: never); the file's size while open (closing compacts). */
    private long write(String name, Duration interval) throws Exception {
        JdbcDataSource h2 = new JdbcDataSource();
        // RETENTION_TIME=0: chunks freed by compaction are reused at once, so that a few seconds of writes
        // show what minutes show with H2's default of 45 s
        h2.setURL("jdbc:h2:file:" + dir.resolve(name) + ";MODE=PostgreSQL;DATABASE_TO_LOWER=TRUE;WRITE_DELAY=0;RETENTION_TIME=0");
        h2.setUser("sa");
        H2StoreCompaction compaction = new H2StoreCompaction(h2, interval);
        try (Connection connection = h2.getConnection()) {
            try (Statement ddl = connection.createStatement()) {
                ddl.execute(new String(Objects.requireNonNull(getClass().getResourceAsStream(
                        "/db/migration/V1__message_store.sql")).readAllBytes(), StandardCharsets.UTF_8));
            }
            compaction.start();
            connection.setAutoCommit(false);
            String result = "{\"status\":\"processed\",\"content\":\"" + "x".repeat(200) + "\"}";
            Timestamp now = new Timestamp(System.currentTimeMillis());
            try (PreparedStatement insert = connection.prepareStatement("INSERT INTO ar_message "
                    + "(id, thread_id, seq, status, received_at, processed_at, result) VALUES (?, ?, ?, 'processed', ?, ?, ?) "
                    + "ON CONFLICT DO NOTHING")) {
                for (int i = 0; i < ROWS; i++) {
                    insert.setString(1, "m-" + Integer.toHexString(i * 40503)); // ids spread over the key space
                    insert.setString(2, "t-" + (i % 1000));
                    insert.setLong(3, i / 1000);
                    insert.setTimestamp(4, now);
                    insert.setTimestamp(5, now);
                    insert.setString(6, result);
                    insert.addBatch();
                    if ((i + 1) % BATCH == 0) {
                        insert.executeBatch();
                        connection.commit();
                    }
                }
            }
            compaction.stop();
            try (Statement count = connection.createStatement();
                    ResultSet rows = count.executeQuery("SELECT count(*), count(DISTINCT thread_id) FROM ar_message")) {
                rows.next();
                assertThat(rows.getInt(1)).isEqualTo(ROWS);
                assertThat(rows.getInt(2)).isEqualTo(1000);
            }
            return Files.size(dir.resolve(name + ".mv.db"));
        } finally {
            compaction.stop();
        }
    }
}
