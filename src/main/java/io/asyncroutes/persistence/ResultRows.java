package io.asyncroutes.persistence;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectReader;
import io.asyncroutes.support.Json;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.sql.Timestamp;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The rows of a persist-queue message: a result object, or a JSON array of them (a hand-off batch
 * of {@link HandoffBatcher}). Only the row's columns are read; the rest of the result is stored as
 * the text it arrived as.
 *
 * <p>An element of a batch is stored as its own slice of the batch text: the row holds the result
 * exactly as it was handed off, and nothing is written back to JSON from its tree (that took 1.5
 * of the 4.3 µs a row cost).
 */
final class ResultRows {

    /** One element of a batch at a time: what follows it is the rest of the batch, not trailing garbage. */
    private static final ObjectReader ELEMENT = Json.MAPPER.reader().without(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    private ResultRows() {
    }

    /** @throws IllegalArgumentException what is wrong with the message, for its dead letter */
    static List<Map<String, Object>> of(String json) {
        try (JsonParser parser = Json.MAPPER.createParser(json)) {
            if (parser.nextToken() != JsonToken.START_ARRAY) {
                return List.of(row(json, Json.readTree(json)));
            }
            List<Map<String, Object>> rows = new ArrayList<>();
            for (JsonToken token = parser.nextToken(); token != JsonToken.END_ARRAY; token = parser.nextToken()) {
                if (token == null) {
                    throw new IllegalArgumentException("not JSON: the batch ends before its closing bracket");
                }
                int start = Math.toIntExact(parser.currentTokenLocation().getCharOffset());
                JsonNode element = ELEMENT.readTree(parser);
                String text = json.substring(start, Math.toIntExact(parser.currentLocation().getCharOffset()));
                try {
                    rows.add(row(text, element));
                } catch (IllegalArgumentException e) {
                    throw new IllegalArgumentException("batch element " + rows.size() + ": " + e.getMessage(), e);
                }
            }
            if (parser.nextToken() != null) {
                throw new IllegalArgumentException("not JSON: content after the batch");
            }
            if (rows.isEmpty()) {
                throw new IllegalArgumentException("an empty batch");
            }
            return rows;
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("not JSON: " + e.getOriginalMessage(), e);
        } catch (IOException e) {
            throw new UncheckedIOException(e); // a String source: not reached
        }
    }

    /** The row's columns straight from the tree: only these fields are read, the rest is stored as it is. */
    static Map<String, Object> row(String json, JsonNode r) {
        String id = text(r, "id");
        String threadId = text(r, "threadId");
        String status = text(r, "status");
        if (id == null || threadId == null || status == null) {
            throw new IllegalArgumentException("id, threadId and status are required");
        }
        JsonNode seq = r.get("seq");
        if (seq != null && !seq.isNull() && !seq.canConvertToLong()) {
            throw new IllegalArgumentException("seq must be an integer");
        }
        Map<String, Object> row = new HashMap<>();
        row.put("id", id);
        row.put("threadId", threadId);
        row.put("seq", seq == null || seq.isNull() ? null : seq.longValue());
        row.put("status", status);
        row.put("receivedAt", timestamp(r, "receivedAt"));
        row.put("processedAt", timestamp(r, "processedAt"));
        row.put("result", json);
        return row;
    }

    private static String text(JsonNode node, String field) {
        JsonNode value = node.get(field);
        if (value == null || value.isNull()) {
            return null;
        }
        if (!value.isTextual()) {
            throw new IllegalArgumentException(field + " must be a string");
        }
        return value.textValue();
    }

    private static Timestamp timestamp(JsonNode node, String field) {
        String value = text(node, field);
        try {
            return value == null ? null : Timestamp.from(Instant.parse(value));
        } catch (DateTimeParseException e) {
            throw new IllegalArgumentException(field + " is not an ISO-8601 instant: " + value, e);
        }
    }
}
