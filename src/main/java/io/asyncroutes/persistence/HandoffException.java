package io.asyncroutes.persistence;

import io.asyncroutes.support.TransientFailure;

/**
 * The persistence wireTap did not reach the durable persist queue. Transient by nature: the
 * inbound message is rolled back and redelivered, and the idempotent write makes the retry safe.
 */
public class HandoffException extends Exception implements TransientFailure {

    public HandoffException(String message, Throwable cause) {
        super(message, cause);
    }
}
