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
import java.time.DateTimeException;
import java.time.Instant;
import java.time.LocalDate;
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
 * <p>This runs for every stored message, so it avoids two costs a profile of the drain showed:
 * an element of a batch is stored as its own slice of the batch text instead of being written back
 * to JSON from its tree, and the timestamps in the form Jackson writes them are read without
 * {@code DateTimeFormatter}'s general parser (5 % of the application's CPU), which still reads
 * anything else ISO-8601 allows.
 */
final class ResultRows {

    /** One element of a batch at a time: what follows it is the rest of the batch, not trailing garbage. */
    private static final ObjectReader ELEMENT = Json.MAPPER.reader().without(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
    private static final int[] SCALE = {100_000_000, 10_000_000, 1_000_000, 100_000, 10_000, 1_000, 100, 10, 1};

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
            return value == null ? null : Timestamp.from(instant(value));
        } catch (DateTimeParseException e) {
            throw new IllegalArgumentException(field + " is not an ISO-8601 instant: " + value, e);
        }
    }

    /**
     * {@link Instant#parse}, with a fast path for {@code yyyy-MM-ddTHH:mm:ss[.f{1,9}]Z}, the form
     * Jackson writes an {@code Instant} in; any other text (offsets, leap seconds, other years) and
     * every error go through {@code Instant.parse}.
     */
    static Instant instant(String value) {
        int n = value.length();
        if (n < 20 || n == 21 || n > 30 || value.charAt(4) != '-' || value.charAt(7) != '-' || value.charAt(10) != 'T'
                || value.charAt(13) != ':' || value.charAt(16) != ':' || value.charAt(n - 1) != 'Z'
                || (n > 20 && value.charAt(19) != '.')) {
            return Instant.parse(value);
        }
        int year = digits(value, 0, 4);
        int month = digits(value, 5, 7);
        int day = digits(value, 8, 10);
        int hour = digits(value, 11, 13);
        int minute = digits(value, 14, 16);
        int second = digits(value, 17, 19);
        int fraction = n > 20 ? digits(value, 20, n - 1) : 0;
        if (year < 0 || month < 0 || day < 0 || hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0
                || second > 59 || fraction < 0) {
            return Instant.parse(value);
        }
        long epochDay;
        try {
            epochDay = LocalDate.of(year, month, day).toEpochDay();
        } catch (DateTimeException e) {
            return Instant.parse(value); // its own error, e.g. February 30th
        }
        int nanos = n > 20 ? fraction * SCALE[n - 22] : 0;
        return Instant.ofEpochSecond(epochDay * 86_400 + hour * 3_600L + minute * 60L + second, nanos);
    }

    /** The decimal number in {@code [from, to)}, or -1 if a character is not a digit. */
    private static int digits(String s, int from, int to) {
        int value = 0;
        for (int i = from; i < to; i++) {
            int d = s.charAt(i) - '0';
            if (d < 0 || d > 9) {
                return -1;
            }
            value = value * 10 + d;
        }
        return value;
    }
}
