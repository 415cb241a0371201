package io.asyncroutes.support;

import java.io.IOException;
import java.sql.SQLException;
import java.sql.SQLNonTransientConnectionException;
import java.sql.SQLRecoverableException;
import java.sql.SQLTransientException;
import java.util.Set;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeoutException;
import org.apache.camel.Exchange;
import org.apache.camel.Predicate;

/**
 * Tells a failure that goes away by itself (database, Redis or broker unreachable, a timeout)
 * from one that never will (bad data, a bug). Transient failures are retried; the others are
 * dead-lettered with their reason. Framework exceptions are matched by class name so this class
 * needs neither Spring JDBC, Spring Data Redis nor Spring AMQP on the classpath (Karaf, camel-main);
 * our own exceptions say so by implementing {@link TransientFailure}, so this class knows no feature.
 */
public final class TransientErrors {

    private static final Set<String> TRANSIENT_TYPES = Set.of(
            "org.springframework.dao.DataAccessResourceFailureException",
            "org.springframework.dao.TransientDataAccessException",
            "org.springframework.dao.RecoverableDataAccessException",
            "org.springframework.jdbc.CannotGetJdbcConnectionException",
            "org.springframework.transaction.CannotCreateTransactionException",
            "org.springframework.data.redis.RedisConnectionFailureException",
            "org.springframework.data.redis.RedisSystemException",
            "io.lettuce.core.RedisConnectionException",
            "io.lettuce.core.RedisCommandTimeoutException",
            "org.springframework.jms.JmsException",
            "jakarta.jms.JMSException",
            "org.springframework.amqp.AmqpException",
            // Kafka's own "try again" family: broker unreachable, request or metadata timeout, not enough replicas
            "org.apache.kafka.common.errors.RetriableException");

    /** Usable in {@code onException(...).onWhen(...)}. */
    public static final Predicate TRANSIENT = exchange -> isTransient(caught(exchange));
    public static final Predicate PERMANENT = exchange -> !isTransient(caught(exchange));

    private TransientErrors() {
    }

    public static boolean isTransient(Throwable error) {
        for (Throwable t = error; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (isA(t, "com.fasterxml.jackson.core.JacksonException")) {
                return false; // a parse error is an IOException, but it will never parse
            }
            if (t instanceof SQLTransientException || t instanceof SQLRecoverableException
                    || t instanceof SQLNonTransientConnectionException
                    || t instanceof IOException || t instanceof TimeoutException
                    || t instanceof RejectedExecutionException || t instanceof TransientFailure) {
                return true;
            }
            if (t instanceof SQLException sql && sql.getSQLState() != null && transientSqlState(sql.getSQLState())) {
                return true;
            }
            for (Class<?> c = t.getClass(); c != null && c != Object.class; c = c.getSuperclass()) {
                if (TRANSIENT_TYPES.contains(c.getName())) {
                    return true;
                }
            }
        }
        return false;
    }

    private static boolean isA(Throwable t, String className) {
        for (Class<?> c = t.getClass(); c != null && c != Object.class; c = c.getSuperclass()) {
            if (c.getName().equals(className)) {
                return true;
            }
        }
        return false;
    }

    /**
     * 08: connection exception, 57P0x: server shutting down, 53300: too many connections, 40001: serialization;
     * H2's own 90028 and 90031, its I/O errors: what its client reports when the connection to an H2
     * server breaks in the middle of a statement (an {@code EOFException} it keeps only in the message),
     * while a connection found broken before the statement is 90067, a {@link SQLNonTransientConnectionException}.
     */
    private static boolean transientSqlState(String state) {
        return state.startsWith("08") || state.startsWith("57P0") || state.equals("53300") || state.equals("40001")
                || state.equals("90028") || state.equals("90031");
    }

    private static Throwable caught(Exchange exchange) {
        Throwable t = exchange.getProperty(Exchange.EXCEPTION_CAUGHT, Throwable.class);
        return t != null ? t : exchange.getException();
    }
}
