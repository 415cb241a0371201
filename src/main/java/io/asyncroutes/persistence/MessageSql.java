package io.asyncroutes.persistence;

/**
 * The SQL of the message store, in camel-sql's named-parameter form. Runs unchanged on
 * PostgreSQL and on H2 in PostgreSQL mode. Values are always bound, never pasted.
 */
public final class MessageSql {

    /** Idempotent: a second write of the same id changes nothing. */
    public static final String INSERT = "INSERT INTO ar_message "
            + "(id, thread_id, seq, status, received_at, processed_at, result) "
            + "VALUES (:#id, :#threadId, :#seq, :#status, :#receivedAt, :#processedAt, :#result) "
            + "ON CONFLICT DO NOTHING";

    /**
     * The parameters of {@link #INSERT}, given to camel-sql ({@code parametersCount}): otherwise it asks
     * the driver for the statement's parameter metadata on every write, which the PostgreSQL driver
     * can only answer by asking the server (a describe round trip).
     */
    public static final int INSERT_PARAMETERS = 7;

    public static final String BY_ID = "SELECT result FROM ar_message WHERE id = :#id";

    /** A thread's history: seq order, then arrival order; keyset paging on seq. */
    public static final String THREAD_AFTER_SEQ = "SELECT result FROM ar_message "
            + "WHERE thread_id = :#threadId AND seq > :#afterSeq "
            + "ORDER BY seq, received_at, id LIMIT :#limit";

    /** Paging by offset for threads whose messages have no seq. */
    public static final String THREAD_PAGE = "SELECT result FROM ar_message "
            + "WHERE thread_id = :#threadId "
            + "ORDER BY seq NULLS LAST, received_at, id LIMIT :#limit OFFSET :#offset";

    private MessageSql() {
    }
}
