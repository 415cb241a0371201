package io.asyncroutes.persistence;

import com.zaxxer.hikari.SQLExceptionOverride;
import java.sql.SQLException;
import java.sql.SQLNonTransientConnectionException;

/**
 * Hikari evicts a pooled connection on SQLState class 08, which PostgreSQL reports for a broken
 * link, but H2 reports its own codes (90121 "database is already closed", 90067 "connection is
 * broken"). Without this, connections that died while the database was away stay in the pool and
 * the persist retries keep failing after the database is back.
 */
public class EvictBrokenConnections implements SQLExceptionOverride {

    @java.lang.Override
    public SQLExceptionOverride.Override adjudicate(SQLException e) {
        return e instanceof SQLNonTransientConnectionException
                ? SQLExceptionOverride.Override.MUST_EVICT
                : SQLExceptionOverride.Override.CONTINUE_EVICT;
    }
}
