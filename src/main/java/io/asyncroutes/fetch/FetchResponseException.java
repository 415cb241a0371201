package io.asyncroutes.fetch;

/** A 2xx response that is still not a usable value: not JSON, or larger than the cap. Never retried. */
public class FetchResponseException extends Exception {

    public FetchResponseException(String message) {
        super(message);
    }
}
