package io.asyncroutes.api;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.asyncroutes.support.Json;
import java.util.List;
import org.apache.camel.Exchange;

/** The JSON error body of SPEC §4: {@code {"error": code, "message": text, "details": [...]}}. */
public final class ApiError {

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
        exchange.getMessage().removeHeaders("*");
        exchange.getMessage().setHeader(Exchange.HTTP_RESPONSE_CODE, status);
        exchange.getMessage().setHeader(Exchange.CONTENT_TYPE, "application/json");
        exchange.getMessage().setBody(body(code, message, details));
    }

}
