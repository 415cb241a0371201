package io.asyncroutes.support;

/**
 * A stale delivery of a message ends without effect: the broker redelivered the message (its
 * consumer's connection was lost while this delivery waited for its turn) and the new copy took
 * its place. Not an error of the message: the intake neither retries nor dead-letters it, the copy
 * is handled instead.
 */
public class SupersededDeliveryException extends RuntimeException {

    public SupersededDeliveryException(String message) {
        super(message, null, false, false); // expected and frequent after a reconnect: no stack trace
    }
}
