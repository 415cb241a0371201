package io.asyncroutes.support;

import io.asyncroutes.AsyncRoutesApplication;
import java.nio.file.Path;
import java.sql.SQLException;
import org.apache.camel.test.spring.junit5.CamelSpringBootTest;
import org.h2.tools.Server;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * Base of the tests that break things: the embedded default, except that the database is a real
 * H2 server reached over TCP through a proxy that a test can cut and restore, and the hand-off
 * timeout is short.
 * Its own data directory, Redis port and Artemis server id keep it apart from
 * {@link EmbeddedProfileTest}'s context, which lives in the same JVM.
 */
@CamelSpringBootTest
@SpringBootTest(classes = AsyncRoutesApplication.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
public abstract class FaultInjectionTest {

    private static final Path DATA_DIR = EmbeddedProfileTest.tempDir("ar-faults-");
    private static final int REDIS_PORT = EmbeddedProfileTest.freePort();
    private static final Server DATABASE = startDatabase();
    private static final TcpProxy DATABASE_LINK = new TcpProxy(EmbeddedProfileTest.freePort(), DATABASE.getPort());

    @DynamicPropertySource
    static void faultProperties(DynamicPropertyRegistry registry) {
        registry.add("app.data-dir", DATA_DIR::toString);
        registry.add("spring.data.redis.port", () -> REDIS_PORT);
        registry.add("spring.artemis.embedded.server-id", () -> 7);
        registry.add("spring.datasource.url", () -> "jdbc:h2:tcp://127.0.0.1:" + DATABASE_LINK.port()
                + "/async-routes;MODE=PostgreSQL;DATABASE_TO_LOWER=TRUE;DEFAULT_NULL_ORDERING=HIGH");
        registry.add("spring.datasource.hikari.connection-timeout", () -> 500);
        registry.add("app.persistence.handoff-timeout", () -> "500ms");
        registry.add("app.persistence.retry-initial-delay", () -> "100ms");
        registry.add("app.persistence.retry-max-delay", () -> "1s");
    }

    private static Server startDatabase() {
        try {
            return Server.createTcpServer("-tcpPort", "0", "-ifNotExists",
                    "-baseDir", DATA_DIR.resolve("h2-server").toString()).start();
        } catch (SQLException e) {
            throw new IllegalStateException("cannot start the H2 server", e);
        }
    }

    /** The database becomes unreachable: open connections drop, new ones are refused. */
    protected static void stopDatabase() {
        DATABASE_LINK.cut();
    }

    protected static void restartDatabase() {
        DATABASE_LINK.restore();
    }
}
