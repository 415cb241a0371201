package io.asyncroutes.support;

import static org.assertj.core.api.Assertions.assertThat;

import io.asyncroutes.persistence.HandoffException;
import org.apache.camel.CamelExchangeException;
import org.h2.api.ErrorCode;
import org.h2.message.DbException;
import org.junit.jupiter.api.Test;
import org.springframework.jdbc.UncategorizedSQLException;

/** What is retried and what is dead-lettered: our exceptions count as transient by implementing {@link TransientFailure}, found anywhere in the cause chain; database errors by type and SQLState. */
class TransientErrorsTest {

    @Test
    void aFailedHandOffIsTransientEvenWrappedByCamel() {
        Exception handoff = new HandoffException("persist queue unreachable", new IllegalStateException("closed"));
        assertThat(TransientErrors.isTransient(handoff)).isTrue();
        assertThat(TransientErrors.isTransient(new CamelExchangeException("wireTap failed", null, handoff))).isTrue();
    }

    @Test
    void anExceptionWithoutTheMarkerIsPermanent() {
        assertThat(TransientErrors.isTransient(new IllegalStateException("a bug"))).isFalse();
        assertThat(TransientErrors.isTransient(new SupersededDeliveryException("copy took over"))).isFalse();
    }

    /**
     * A connection to an H2 server that breaks while a batch is on it fails with 90028 (as seen in
     * DatabaseOutageTest): the batch must be retried as a batch, not written row by row as if the rows were bad.
     */
    @Test
    void h2sIoErrorIsTransientItsConstraintErrorsAreNot() {
        java.sql.SQLException broken = DbException.get(ErrorCode.IO_EXCEPTION_1, "java.io.EOFException").getSQLException();
        assertThat(TransientErrors.isTransient(new UncategorizedSQLException("PreparedStatementCallback", "INSERT", broken))).isTrue();
        assertThat(TransientErrors.isTransient(DbException.get(ErrorCode.IO_EXCEPTION_2, "disk", "x").getSQLException())).isTrue();
        java.sql.SQLException duplicate = DbException.get(ErrorCode.DUPLICATE_KEY_1, "PRIMARY KEY").getSQLException();
        assertThat(TransientErrors.isTransient(new UncategorizedSQLException("PreparedStatementCallback", "INSERT", duplicate))).isFalse();
        assertThat(TransientErrors.isTransient(DbException.get(ErrorCode.VALUE_TOO_LONG_2, "id", "x").getSQLException())).isFalse();
    }
}
