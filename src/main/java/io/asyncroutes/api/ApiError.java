package io.asyncroutes.api;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.asyncroutes.support.Json;
import io.asyncroutes.support.RejectedInputException;
import io.asyncroutes.support.TransientErrors;
import java.util.List;
import org.apache.camel.Exchange;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The API's JSON error body: {@code {"error": code, "message": text, "details": [...]}}. */
public final class ApiError {

    private static final Logger LOG = LoggerFactory.getLogger(ApiRoutes.class); // the log name users know

    private ApiError() {
    }

    public static String body(String code, String message, List<String> details) {
        ObjectNode node = Json.MAPPER.createObjectNode();
        node.put("error", code);
        node.put("message", message);
        ArrayNode array = node.putArray("details");
        details.forEach(array::add);
        return node.toString();
    }

    /** Ends the exchange with an error response. */
    public static void respond(Exchange exchange, int status, String code, String message, List<String> details) {
        HttpJson.respond(exchange, status, body(code, message, details));
    }

    // the REST routes' exception mapping (ApiRoutes' onException): client mistakes are 4xx, a dependency
    // that is down 503, never a bare 500 for either

    static void rejected(Exchange exchange) {
        RejectedInputException e = exchange.getProperty(Exchange.EXCEPTION_CAUGHT, RejectedInputException.class);
        respond(exchange, e.status(), e.code(), e.getMessage(), e.details());
    }

    static void unreadableBody(Exchange exchange) {
        respond(exchange, 400, "invalid_json", "request body is not valid JSON", List.of("body is not valid UTF-8 text"));
    }

    static void llmUnavailable(Exchange exchange) {
        respond(exchange, 503, "llm_unavailable", "no LLM is configured (app.llm.base-url)", List.of());
    }

    static void llmFailed(Exchange exchange) {
        respond(exchange, 502, "upstream_error",
                "the LLM answered " + exchange.getProperty(Exchange.EXCEPTION_CAUGHT, Exception.class).getMessage(), List.of());
    }

    static void unexpected(Exchange exchange) {
        Exception e = exchange.getProperty(Exchange.EXCEPTION_CAUGHT, Exception.class);
        if (TransientErrors.isTransient(e)) {
            LOG.warn("API request failed on an unavailable dependency: {}", e.toString());
            respond(exchange, 503, "unavailable", "a dependency is unavailable, try again later", List.of());
        } else {
            LOG.error("API request failed", e);
            respond(exchange, 500, "internal_error", "internal error", List.of());
        }
    }

}
