package io.asyncroutes.message;

/**
 * Exchange-property names of all routes, like Camel's {@code ExchangePropertyKey}. Properties stay
 * inside the process but cross route and package boundaries (and copied exchanges), so they are
 * kept in one place where a clash between two features' names would show.
 */
public final class ExchangeProperties {

    // --- handling one message (pipeline, ordering, state, persistence) ---

    /** The handled message's {@link MessageResult}, for the steps after {@code publish-result} (which leaves JSON as the body). */
    public static final String RESULT = "arResult";
    /** Whether {@code publish-result} also stores the result (hands it to persistence). */
    public static final String STORE_RESULT = "arStoreResult";
    /** The thread's recent history turns (JSON strings) gathered for a reply, read by {@code chat-reply}. */
    public static final String REPLY_HISTORY = "arReplyHistory";
    /** The message id whose idempotency key {@code state/HandledRecord} wrote with the message's other writes. */
    public static final String ID_RECORDED = "arIdRecorded";
    /** The future that the persistence wireTap completes once its hand-off is durable. */
    public static final String HANDOFF = "arPersistHandoff";
    /**
     * A {@code java.util.function.BooleanSupplier} the ordering gate asks as it lets the message
     * through: false once the message's source no longer belongs to this instance (its Kafka
     * partition moved to another), and the gate then drops it instead of handling it (the new owner
     * handles its copy); true claims it, so that a revocation waits for it to finish.
     */
    public static final String STILL_OWNED = "arStillOwned";
    /** The {@code KafkaCommitWindow.Delivery} of the record a (copied) exchange handles. */
    public static final String KAFKA_DELIVERY = "arKafkaDelivery";

    /** The body an intake route's message arrived with, for its dead letter ({@code support/SharedRouteConfigurations}). */
    public static final String ARRIVED_BODY = "arArrivedBody";
    /** The headers an intake route's message arrived with (a copy), for its dead letter. */
    public static final String ARRIVED_HEADERS = "arArrivedHeaders";

    // --- the ordering gate (ordering/KeyedResequencer) ---

    /** Set on exchanges that went through the gate (guards against gating twice). */
    public static final String ORDERING_GATED = "arOrderingGated";
    /** Set on a seq duplicate, beside {@code Exchange.DUPLICATE_MESSAGE}. */
    public static final String ORDERING_SEQ_DUPLICATE = "arOrderingSeqDuplicate";
    /** Set on a late predecessor: handled, stored with status {@value MessageResult#LATE}. */
    public static final String ORDERING_LATE = "arOrderingLate";
    /** The {@code ThreadOrderingEngine.Ticket} of the turn the exchange holds. */
    public static final String ORDERING_TURN = "arOrderingTurn";

    // --- outbound HTTP (fetch/, the http-retry route configuration, chat/) ---

    /** Epoch millis after which no retry starts. */
    public static final String DEADLINE = "arDeadline";
    /** What {@code http-retry} names in its retry log line (else the URL). */
    public static final String RETRY_TARGET = "arRetryTarget";
    /** Epoch millis of the last failure seen by {@code http-retry}. */
    public static final String FAILED_AT = "arFailedAt";
    /** The URLs of one fetch, in request order. */
    public static final String FETCH_URLS = "arFetchUrls";
    /** Epoch millis at which the fetch began. */
    public static final String FETCH_STARTED = "arFetchStarted";
    /** The gathered per-URL results of one fetch. */
    public static final String FETCH_ITEMS = "arFetchItems";
    /** Epoch millis at which one URL's fetch began. */
    public static final String FETCH_ITEM_STARTED = "arFetchItemStarted";

    // --- REST API (api/) ---

    public static final String API_MESSAGE_ID = "arApiMessageId";
    public static final String API_THREAD_ID = "arApiThreadId";
    public static final String API_LIMIT = "arApiLimit";
    /** The page's keyset bound, null when paging by offset (route {@code api-thread-messages} branches on it). */
    public static final String API_AFTER_SEQ = "arApiAfterSeq";
    public static final String API_OFFSET = "arApiOffset";

    // --- cleanup ---

    /** The cleanup tick's time. */
    public static final String CLEANUP_TICK = "arCleanupTick";

    private ExchangeProperties() {
    }
}
