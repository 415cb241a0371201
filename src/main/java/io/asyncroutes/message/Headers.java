package io.asyncroutes.message;

/**
 * Message header names the routes set or read. They travel with the message over the brokers, so
 * they are a contract with consumers; valid Java identifiers because JMS drops any other.
 */
public final class Headers {

    /** Epoch millis at which the intake accepted the message. */
    public static final String RECEIVED_AT = "arReceivedAt";
    /** The message id, on results and dead letters, so consumers can select by it. */
    public static final String MESSAGE_ID = "arMessageId";
    /** Why a message went to the dead-letter queue (read by {@code routes/dead-letter.yaml}). */
    public static final String DEAD_LETTER_REASON = "arDeadLetterReason";
    /** The route that dead-lettered it. */
    public static final String DEAD_LETTER_ROUTE = "arDeadLetterRoute";
    /** JMS message group: the broker keeps one thread on one consumer at a time. */
    public static final String JMS_GROUP = "JMSXGroupID";
    /**
     * RabbitMQ routing key of the inbound message (the thread id): the partition exchange
     * puts one thread on one partition queue. JMS does not send Camel* headers, so it is inert there.
     */
    public static final String RABBIT_ROUTING_KEY = "CamelSpringRabbitmqRoutingOverrideKey";

    private Headers() {
    }
}
