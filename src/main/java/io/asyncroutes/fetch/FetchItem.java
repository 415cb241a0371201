package io.asyncroutes.fetch;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.asyncroutes.support.Json;

/** One entry of a fetch result (the result's {@code context}): {@code {url, ok, status, body | error, attempts, millis}}. */
public final class FetchItem {

    public static final String DEADLINE_EXCEEDED = "deadline exceeded";

    private FetchItem() {
    }

    public static ObjectNode ok(String url, int status, JsonNode body, int attempts, long millis) {
        ObjectNode item = base(url, true, status, attempts, millis);
        item.set("body", body);
        return item;
    }

    public static ObjectNode error(String url, Integer status, String error, int attempts, long millis) {
        ObjectNode item = base(url, false, status, attempts, millis);
        item.put("error", error);
        return item;
    }

    private static ObjectNode base(String url, boolean ok, Integer status, int attempts, long millis) {
        ObjectNode item = Json.MAPPER.createObjectNode();
        item.put("url", url);
        item.put("ok", ok);
        if (status == null) {
            item.putNull("status");
        } else {
            item.put("status", status);
        }
        item.put("attempts", attempts);
        item.put("millis", millis);
        return item;
    }
}
