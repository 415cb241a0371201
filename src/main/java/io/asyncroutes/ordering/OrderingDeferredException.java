package io.asyncroutes.ordering;

/**
 * An early message on a synchronous, transacted broker consumer: its predecessors are not in this
 * instance, and waiting would block the very consumer that is to deliver them (JMS message groups
 * give one thread to one consumer, in queue order). The intake's error handling puts the message
 * back on the inbound queue with a short scheduled delay (Artemis; RabbitMQ has none, there it goes
 * to the tail of its partition queue, behind its predecessors), in the consumer's transaction,
 * carrying {@link #SINCE_HEADER}; by the time it comes back its predecessors have passed.
 */
public class OrderingDeferredException extends RuntimeException {

    /** Epoch millis of the message's first deferral: its gap timeout counts from there. */
    public static final String SINCE_HEADER = "arOrderingDeferredSince";
    /** Artemis: deliver the message not before this epoch millis. */
    public static final String ARTEMIS_SCHEDULED_DELIVERY = "_AMQ_SCHED_DELIVERY";

    private final long since;
    private final String threadId;

    public OrderingDeferredException(String message, long since, String threadId) {
        super(message, null, false, false); // expected flow control: no stack trace
        this.since = since;
        this.threadId = threadId;
    }

    public long since() {
        return since;
    }

    /** The thread the message belongs to: RabbitMQ routes it back to that thread's partition by it. */
    public String threadId() {
        return threadId;
    }
}
