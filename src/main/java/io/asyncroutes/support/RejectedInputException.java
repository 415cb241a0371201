package io.asyncroutes.support;

import java.util.List;

/**
 * Input that is the sender's mistake: a message breaking the contract of the message contract (README "REST API"), or a bad REST
 * request. Carries the HTTP status the REST API answers with and the reason the dead-letter
 * queue records, so both intakes report the same thing.
 */
public class RejectedInputException extends RuntimeException {

    private final int status;
    private final String code;
    private final List<String> details;

    public RejectedInputException(int status, String code, String message, List<String> details) {
        super(message);
        this.status = status;
        this.code = code;
        this.details = List.copyOf(details);
    }

    public RejectedInputException(int status, String code, String message) {
        this(status, code, message, List.of());
    }

    public static RejectedInputException invalidJson(String why) {
        return new RejectedInputException(400, "invalid_json", "request body is not valid JSON", List.of(why));
    }

    public int status() { return status; }
    public String code() { return code; }
    public List<String> details() { return details; }

    /** One line for logs and the dead-letter reason header. */
    public String reason() {
        return details.isEmpty() ? code + ": " + getMessage() : code + ": " + getMessage() + " " + details;
    }
}
