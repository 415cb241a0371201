package io.asyncroutes.ordering;

/**
 * An early message on a synchronous, transacted broker consumer: its predecessors are not in this
 * instance, and waiting would block the very consumer that is to deliver them (JMS message groups
 * give one thread to one consumer). The message is rolled back instead, and the broker redelivers it
 * after its redelivery delay, by which time the predecessors have passed. Transient by design.
 */
public class OrderingDeferredException extends RuntimeException {

    public OrderingDeferredException(String message) {
        super(message, null, false, false); // expected flow control: no stack trace
    }
}
