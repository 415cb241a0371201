package io.asyncroutes.karaf;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Creates the message store table when the DataSource's current schema has none. The Spring Boot
 * application migrates with Flyway; Flyway is not part of the Karaf feature, so the bundle carries
 * the first migration script ({@code db/V1__message_store.sql}, the same file) and runs it once. A
 * schema Flyway already migrated is left alone, as the table is there. The Quartz tables of
 * migration V2 are not needed: the Karaf deployment runs the cleanup tick on an in-memory scheduler.
 */
final class SchemaInitializer {

    private static final Logger LOG = LoggerFactory.getLogger(SchemaInitializer.class);
    static final String TABLE = "ar_message";
    static final String SCRIPT = "db/V1__message_store.sql";

    private SchemaInitializer() {
    }

    static void ensureMessageStore(DataSource dataSource, ClassLoader loader) throws SQLException, IOException {
        try (Connection connection = dataSource.getConnection()) {
            if (tableExists(connection)) {
                return;
            }
            String script;
            try (InputStream in = loader.getResourceAsStream(SCRIPT)) {
                if (in == null) {
                    throw new IOException(SCRIPT + " is missing from the bundle");
                }
                script = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            }
            boolean autoCommit = connection.getAutoCommit();
            connection.setAutoCommit(false);
            try (Statement statement = connection.createStatement()) {
                for (String sql : statements(script)) {
                    statement.execute(sql);
                }
                connection.commit();
            } catch (SQLException e) {
                connection.rollback();
                throw e;
            } finally {
                connection.setAutoCommit(autoCommit);
            }
            LOG.info("Created table {} in schema {}", TABLE, connection.getSchema());
        }
    }

    private static boolean tableExists(Connection connection) throws SQLException {
        try (ResultSet tables = connection.getMetaData().getTables(connection.getCatalog(), connection.getSchema(), TABLE, null)) {
            return tables.next();
        }
    }

    /** The script's statements: comment lines dropped, split on the semicolons ending them. */
    static java.util.List<String> statements(String script) {
        StringBuilder text = new StringBuilder();
        for (String line : script.split("\n")) {
            if (!line.strip().startsWith("--")) {
                text.append(line).append('\n');
            }
        }
        return java.util.Arrays.stream(text.toString().split(";"))
                .map(String::strip).filter(s -> !s.isEmpty()).toList();
    }
}
