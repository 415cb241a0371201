package io.asyncroutes.support;

/**
 * The application is stopping and this message was handed back unhandled (it waited in the ordering
 * gate for its turn): transient, so it is not acknowledged and its broker delivers it again after the
 * restart. The intake's route configuration lets it fail the exchange without an ERROR per message.
 */
public class StoppingException extends RuntimeException implements TransientFailure {

    public StoppingException(String message) {
        super(message, null, false, false); // no stack trace: an expected outcome of every stop under load
    }
}
