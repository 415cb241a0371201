package io.asyncroutes.fetch;

/**
 * The upstream answered, but not with a usable 2xx JSON body. 5xx, 408 and 429 are transient
 * (retried); any other status is the item's final error.
 */
public class UpstreamStatusException extends Exception {

    private final int status;
    private final Long retryAfterMillis;

    public UpstreamStatusException(int status, Long retryAfterMillis) {
        super("HTTP " + status);
        this.status = status;
        this.retryAfterMillis = retryAfterMillis;
    }

    public int status() {
        return status;
    }

    /** What the server asked for in Retry-After, or null. */
    public Long retryAfterMillis() {
        return retryAfterMillis;
    }

    public boolean isTransient() {
        return status >= 500 || status == 408 || status == 429;
    }
}
