package io.asyncroutes.api;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonNode;
import io.asyncroutes.chat.ChatCall;
import io.asyncroutes.chat.ChatStream;
import io.asyncroutes.intake.MessageValidator;
import io.asyncroutes.message.ExchangeProperties;
import io.asyncroutes.message.Headers;
import io.asyncroutes.message.MessageResult;
import io.asyncroutes.message.ThreadMessage;
import io.asyncroutes.settings.AppSettings;
import io.asyncroutes.support.Json;
import io.asyncroutes.support.RejectedInputException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.camel.Exchange;
import org.apache.camel.Message;
import org.apache.camel.ProducerTemplate;

/**
 * The work of the REST routes ({@link ApiRoutes}), one method per step, so each route reads as its
 * steps: parse and check the request, call the pipeline, write the answer.
 */
public class ApiHandlers {

    static final int DEFAULT_LIMIT = 50;
    static final int MAX_LIMIT = 500;

    private final MessageValidator validator;
    private final AppSettings settings;
    private final ProducerTemplate template;

    ApiHandlers(MessageValidator validator, AppSettings settings, ProducerTemplate template) {
        this.validator = validator;
        this.settings = settings;
        this.template = template;
    }

    private String body(Exchange exchange) throws IOException {
        return HttpJson.readBody(exchange, settings.getLimits().getMaxBodyBytes());
    }

    /** {@code api-post-message}: the validated message, with only the headers the broker needs. */
    void acceptMessage(Exchange exchange) throws IOException {
        ThreadMessage message = validator.parse(body(exchange));
        Message out = exchange.getMessage();
        // nothing of the HTTP request travels on to the broker but what we set here
        out.removeHeaders("*");
        out.setHeader(Headers.RECEIVED_AT, System.currentTimeMillis());
        out.setHeader(Headers.JMS_GROUP, message.threadId());
        out.setHeader(Headers.RABBIT_ROUTING_KEY, message.threadId());
        out.setBody(Json.write(message));
        exchange.setProperty(ExchangeProperties.API_MESSAGE_ID, message.id());
    }

    /** {@code api-post-message}, once the message is durably on the inbound queue: 202 with its id. */
    void accepted(Exchange exchange) {
        HttpJson.respond(exchange, 202, Json.write(Map.of("id", exchange.getProperty(ExchangeProperties.API_MESSAGE_ID, String.class))));
    }

    /** {@code api-fetch}: {@code {"urls": [...]}} to the checked URL list that {@code fetch-all} takes. */
    void fetchRequest(Exchange exchange) throws IOException {
        JsonNode request = HttpJson.parse(body(exchange));
        JsonNode urls = request.isObject() ? request.get("urls") : null;
        if (urls == null || request.size() != 1) {
            throw new RejectedInputException(422, "invalid_request", "body must be {\"urls\": [...]}");
        }
        exchange.getMessage().removeHeaders("*");
        exchange.getMessage().setBody(validator.fetchUrls(urls));
    }

    /**
     * {@code api-fetch}: the gathered items written straight into the response bytes, once (no second
     * tree, no String). Runs on the fetch pool thread that finished the fan-out (the platform-http
     * consumer's own thread waits for the route and writes the answer), so CPU work only here.
     */
    void fetchResults(Exchange exchange) throws IOException {
        List<?> results = exchange.getMessage().getBody(List.class);
        HttpJson.respond(exchange, 200, Json.MAPPER.writeValueAsBytes(Map.of("results", results)));
    }

    /** {@code api-chat}: the whole answer as JSON, or its chunks as Server-Sent Events. */
    void chat(Exchange exchange) throws Exception {
        ChatRequest request = ChatRequest.parse(HttpJson.parse(body(exchange)));
        // a template call, not .to(): chat-stream's own error handler (the retries) would otherwise
        // keep the API route's onException from mapping its failure
        Exchange answer = template.send("direct:chat-stream", e -> e.getMessage()
                .setBody(new ChatCall(request.turns(), request.model(), null)));
        if (answer.getException() != null) {
            throw answer.getException();
        }
        ChatStream stream = answer.getMessage().getBody(ChatStream.class);
        if (!request.stream()) {
            HttpJson.respond(exchange, 200, Json.write(Map.of("reply", stream.text(Duration.ofMinutes(10)))));
            return;
        }
        Message out = exchange.getMessage();
        out.removeHeaders("*");
        // chunked: platform-http copies this stream to the client, flushing each read
        out.setHeader(Exchange.HTTP_RESPONSE_CODE, 200);
        out.setHeader(Exchange.CONTENT_TYPE, "text/event-stream");
        out.setHeader(Exchange.HTTP_CHUNKED, true);
        out.setHeader("Cache-Control", "no-cache");
        out.setHeader("X-Accel-Buffering", "no");
        out.setBody(stream.events());
    }

    /** {@code api-get-message}: the query parameters of {@code MessageSql.BY_ID}. */
    void messageQuery(Exchange exchange) {
        String id = exchange.getMessage().getHeader("id", String.class);
        if (!MessageValidator.isIdentifier(id)) {
            throw new RejectedInputException(400, "invalid_id", "id must be 1-128 characters of [A-Za-z0-9._:-]");
        }
        exchange.getMessage().setBody(Map.of("id", id));
    }

    /** {@code api-get-message}: the stored result as it is (already JSON), or 404. */
    void messageRecord(Exchange exchange) {
        List<?> rows = exchange.getMessage().getBody(List.class);
        if (rows == null || rows.isEmpty()) {
            throw new RejectedInputException(404, "not_found", "no message with this id");
        }
        HttpJson.respond(exchange, 200, (String) ((Map<?, ?>) rows.get(0)).get("result"));
    }

    /** {@code api-thread-messages}: checked paging parameters, one row more than the page to see if another follows. */
    void threadQuery(Exchange exchange) {
        Message in = exchange.getMessage();
        String threadId = in.getHeader("threadId", String.class);
        if (!MessageValidator.isIdentifier(threadId)) {
            throw new RejectedInputException(400, "invalid_thread_id", "threadId must be 1-128 characters of [A-Za-z0-9._:-]");
        }
        long limit = queryNumber(in, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT);
        Long afterSeq = in.getHeader("afterSeq") == null ? null : queryNumber(in, "afterSeq", 0, 0, Long.MAX_VALUE);
        long offset = queryNumber(in, "offset", 0, 0, 1_000_000);
        if (afterSeq != null && offset > 0) {
            throw new RejectedInputException(400, "invalid_query", "use either afterSeq or offset, not both");
        }
        Map<String, Object> params = new HashMap<>();
        params.put("threadId", threadId);
        params.put("limit", limit + 1);
        params.put("afterSeq", afterSeq);
        params.put("offset", offset);
        exchange.setProperty(ExchangeProperties.API_THREAD_ID, threadId);
        exchange.setProperty(ExchangeProperties.API_LIMIT, limit);
        exchange.setProperty(ExchangeProperties.API_AFTER_SEQ, afterSeq);
        exchange.setProperty(ExchangeProperties.API_OFFSET, offset);
        in.setBody(params);
    }

    /** {@code api-thread-messages}: {@code {"items": [stored results as they are], "next": link or null}}. */
    void threadPage(Exchange exchange) throws IOException {
        List<?> rows = exchange.getMessage().getBody(List.class);
        long limit = exchange.getProperty(ExchangeProperties.API_LIMIT, Long.class);
        boolean more = rows.size() > limit;
        List<?> page = more ? rows.subList(0, (int) limit) : rows;
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(256 + page.size() * 512);
        String last = null;
        try (JsonGenerator json = Json.MAPPER.getFactory().createGenerator(bytes)) {
            json.writeStartObject();
            json.writeArrayFieldStart("items");
            for (Object row : page) {
                last = (String) ((Map<?, ?>) row).get("result");
                json.writeRawValue(last); // stored as JSON by persistence: copied, not parsed and written again
            }
            json.writeEndArray();
            json.writeStringField("next", more ? nextPage(exchange, limit, last) : null);
            json.writeEndObject();
        }
        HttpJson.respond(exchange, 200, bytes.toByteArray());
    }

    private static String nextPage(Exchange exchange, long limit, String lastResult) {
        String base = "/api/threads/" + exchange.getProperty(ExchangeProperties.API_THREAD_ID) + "/messages?limit=" + limit;
        if (exchange.getProperty(ExchangeProperties.API_AFTER_SEQ) != null) {
            return base + "&afterSeq=" + Json.read(lastResult, MessageResult.class).getSeq();
        }
        return base + "&offset=" + (exchange.getProperty(ExchangeProperties.API_OFFSET, Long.class) + limit);
    }

    private static long queryNumber(Message in, String name, long fallback, long min, long max) {
        String raw = in.getHeader(name, String.class);
        if (raw == null || raw.isEmpty()) {
            return fallback;
        }
        try {
            long value = Long.parseLong(raw);
            if (value >= min && value <= max) {
                return value;
            }
        } catch (NumberFormatException ignored) {
            // fall through to the error below
        }
        throw new RejectedInputException(400, "invalid_query", name + " must be an integer between " + min + " and " + max);
    }
}
