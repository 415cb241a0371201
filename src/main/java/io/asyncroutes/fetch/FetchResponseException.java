package io.asyncroutes.fetch;

/**
 * An item's final error that no retry can mend: a 2xx response that is still not a usable value
 * (not JSON, larger than the cap), or a request the deadline left no time for. Never retried.
 */
public class FetchResponseException extends Exception {

    public FetchResponseException(String message) {
        super(message);
    }
}
