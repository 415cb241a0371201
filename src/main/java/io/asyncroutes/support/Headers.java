package io.asyncroutes.support;

/**
 * Header and exchange-property names shared by the routes. Header names are valid Java
 * identifiers because JMS drops any other.
 */
public final class Headers {

    /** Epoch millis at which the intake accepted the message. */
    public static final String RECEIVED_AT = "arReceivedAt";
    /** The message id, on results and dead letters, so consumers can select by it. */
    public static final String MESSAGE_ID = "arMessageId";
    /** Why a message went to the dead-letter queue. */
    public static final String DEAD_LETTER_REASON = "arDeadLetterReason";
    /** The route that dead-lettered it. */
    public static final String DEAD_LETTER_ROUTE = "arDeadLetterRoute";
    /** JMS message group: the broker keeps one thread on one consumer at a time. */
    public static final String JMS_GROUP = "JMSXGroupID";
    /**
     * RabbitMQ routing key of the inbound message (the thread id): the consistent-hash exchange
     * puts one thread on one partition queue. JMS does not send Camel* headers, so it is inert there.
     */
    public static final String RABBIT_ROUTING_KEY = "CamelSpringRabbitmqRoutingOverrideKey";
    /** Property: the thread's recent history turns (JSON strings) gathered for a reply, read by {@code chat-reply}. */
    public static final String REPLY_HISTORY = "arReplyHistory";
    /** Property: the handled message's result object, for the steps after {@code publish-result} (which leaves JSON as the body). */
    public static final String RESULT = "arResult";
    /** Property: the message id whose idempotency key {@code state/HandledRecord} wrote with the message's other writes. */
    public static final String ID_RECORDED = "arIdRecorded";
    /** Property holding the future that the persistence wireTap completes once its hand-off is durable. */
    public static final String HANDOFF = "arPersistHandoff";

    /**
     * Property: a {@code java.util.function.BooleanSupplier} the ordering gate asks as it lets the
     * message through: false once the message's source no longer belongs to this instance (its Kafka
     * partition moved to another), and the gate then drops it instead of handling it (the new owner
     * handles its copy); true claims it, so that a revocation waits for it to finish.
     */
    public static final String STILL_OWNED = "arStillOwned";

    private Headers() {
    }
}
