package io.asyncroutes.api;

import io.asyncroutes.chat.ChatCall;
import io.asyncroutes.chat.ChatStream;
import io.asyncroutes.chat.LlmUnavailableException;
import io.asyncroutes.config.AppSettings;
import io.asyncroutes.fetch.UpstreamStatusException;
import io.asyncroutes.support.RejectedInputException;
import io.asyncroutes.intake.MessageValidator;
import io.asyncroutes.intake.ThreadMessage;
import io.asyncroutes.persistence.MessageSql;
import io.asyncroutes.support.Headers;
import io.asyncroutes.support.Json;
import io.asyncroutes.support.TransientErrors;
import java.io.IOException;
import java.io.InputStream;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import com.fasterxml.jackson.databind.JsonNode;
import org.apache.camel.Exchange;
import org.apache.camel.ExchangePattern;
import org.apache.camel.Message;
import org.apache.camel.ProducerTemplate;
import org.apache.camel.StreamCacheException;
import org.apache.camel.builder.RouteBuilder;
import org.apache.camel.model.rest.RestBindingMode;
import org.apache.camel.model.rest.RestParamType;

/**
 * The REST API (REST DSL on platform-http); every verb declares each status it answers, so the
 * OpenAPI document at {@code /api/openapi.json} lists them. Camel inlines each REST verb with its
 * {@code direct:} route, so the route ids are those of the {@code from("direct:api-...")} routes. Client mistakes always end as a JSON
 * error with a 4xx status; a dependency that is down answers 503, never a bare 500.
 */
public class ApiRoutes extends RouteBuilder {

    // Response codes as strings: in Camel 4.17 responseMessage(int, String) builds the message but never
    // adds it to the verb (the String variant does), so int codes silently vanish from the OpenAPI document.

    /** Every error answer has the same shape ({@link ApiError}). */
    private static final String ERROR = "JSON error {\"error\": code, \"message\", \"details\": [...]}: ";

    private static final String UNEXPECTED = ERROR + "500 internal_error: a fault of ours, logged with its cause";

    static final int DEFAULT_LIMIT = 50;
    static final int MAX_LIMIT = 500;

    private final MessageValidator validator;
    private final AppSettings settings;

    public ApiRoutes(MessageValidator validator, AppSettings settings) {
        this.validator = validator;
        this.settings = settings;
    }

    @Override
    public void configure() {
        restConfiguration()
                .component("platform-http")
                .bindingMode(RestBindingMode.off)
                .apiContextPath("/api/openapi.json")
                .apiContextRouteId("api-openapi")
                .apiProperty("api.title", "async-routes")
                .apiProperty("api.version", "1")
                .apiProperty("api.description", "Queue-driven conversation-thread message service")
                // the document's server is where it was fetched from (Host, X-Forwarded-*), not the bind address
                .useXForwardHeaders(true);

        onException(RejectedInputException.class).handled(true).process(exchange -> {
            RejectedInputException e = exchange.getProperty(Exchange.EXCEPTION_CAUGHT, RejectedInputException.class);
            ApiError.respond(exchange, e.status(), e.code(), e.getMessage(), e.details());
        });
        // the request body could not be read into text (not UTF-8, cut short): the client's bytes, never worth a retry
        onException(StreamCacheException.class).handled(true).process(exchange -> ApiError.respond(exchange, 400,
                "invalid_json", "request body is not valid JSON", List.of("body is not valid UTF-8 text")));
        onException(LlmUnavailableException.class).handled(true).process(exchange -> ApiError.respond(exchange, 503,
                "llm_unavailable", "no LLM is configured (app.llm.base-url)", List.of()));
        onException(UpstreamStatusException.class).handled(true).process(exchange -> ApiError.respond(exchange, 502,
                "upstream_error", "the LLM answered " + exchange.getProperty(Exchange.EXCEPTION_CAUGHT, Exception.class).getMessage(),
                List.of()));
        onException(Exception.class).handled(true).process(exchange -> {
            Exception e = exchange.getProperty(Exchange.EXCEPTION_CAUGHT, Exception.class);
            if (TransientErrors.isTransient(e)) {
                log.warn("API request failed on an unavailable dependency: {}", e.toString());
                ApiError.respond(exchange, 503, "unavailable", "a dependency is unavailable, try again later", List.of());
            } else {
                log.error("API request failed", e);
                ApiError.respond(exchange, 500, "internal_error", "internal error", List.of());
            }
        });

        rest("/api").description("Conversation-thread messages")
                .post("/messages")
                    .description("Accept a message for processing (202 with its id)")
                    .consumes("application/json").produces("application/json")
                    .param().name("body").type(RestParamType.body).description("Message: id?, threadId, seq?, content, fetch?, reply?, metadata?").endParam()
                    .responseMessage("202", "accepted: on the durable inbound queue, {\"id\": ...}")
                    .responseMessage("400", ERROR + "the body is not JSON (or not UTF-8)")
                    .responseMessage("401", ERROR + "missing or wrong X-API-Key (when an API key is set)")
                    .responseMessage("413", ERROR + "the body or its content is too large")
                    .responseMessage("415", ERROR + "Content-Type is not application/json")
                    .responseMessage("422", ERROR + "the message breaks the contract; details name each field")
                    .responseMessage("503", ERROR + "the broker is unavailable or the application is starting; retry")
                    .responseMessage("default", UNEXPECTED)
                    .to("direct:api-post-message")
                .post("/fetch")
                    .description("Fetch JSON from URLs in parallel: {\"urls\": [...]} -> {\"results\": [...]} in input order")
                    .consumes("application/json").produces("application/json")
                    .param().name("body").type(RestParamType.body).description("{\"urls\": [absolute http/https URLs]}").endParam()
                    .responseMessage("200", "one result per URL, in input order: its value or its error")
                    .responseMessage("400", ERROR + "the body is not JSON")
                    .responseMessage("401", ERROR + "missing or wrong X-API-Key")
                    .responseMessage("413", ERROR + "the body is too large")
                    .responseMessage("415", ERROR + "Content-Type is not application/json")
                    .responseMessage("422", ERROR + "not {\"urls\": [...]}, too many URLs, or a URL that is not absolute http/https")
                    .responseMessage("503", ERROR + "the application is starting; retry")
                    .responseMessage("default", UNEXPECTED)
                    .to("direct:api-fetch")
                .post("/chat")
                    .description("Chat with the configured LLM: {messages:[{role, content}], model?, stream?};"
                            + " stream=true answers text/event-stream, chunk by chunk, then [DONE]")
                    .consumes("application/json").produces("application/json,text/event-stream")
                    .param().name("body").type(RestParamType.body).description("{\"messages\": [...], \"model\": ..., \"stream\": true}").endParam()
                    .responseMessage("200", "the answer (JSON), or its chunks as Server-Sent Events when stream is true")
                    .responseMessage("400", ERROR + "the body is not a JSON object")
                    .responseMessage("401", ERROR + "missing or wrong X-API-Key")
                    .responseMessage("413", ERROR + "the body or its messages are too large")
                    .responseMessage("415", ERROR + "Content-Type is not application/json")
                    .responseMessage("422", ERROR + "the chat request breaks the contract")
                    .responseMessage("502", ERROR + "the LLM answered with an error")
                    .responseMessage("503", ERROR + "no LLM configured, or it is unreachable; retry")
                    .responseMessage("default", UNEXPECTED)
                    .to("direct:api-chat")
                .get("/messages/{id}")
                    .description("The result record of one message (404 if unknown)")
                    .produces("application/json")
                    .responseMessage("200", "the stored result: the message, its status, context, reply, timestamps")
                    .responseMessage("400", ERROR + "the id is not 1-128 characters of [A-Za-z0-9._:-]")
                    .responseMessage("401", ERROR + "missing or wrong X-API-Key")
                    .responseMessage("404", ERROR + "no message with this id (yet)")
                    .responseMessage("503", ERROR + "the database is unavailable; retry")
                    .responseMessage("default", UNEXPECTED)
                    .to("direct:api-get-message")
                .get("/threads/{threadId}/messages")
                    .description("A thread's history in seq order, then arrival order")
                    .produces("application/json")
                    .param().name("limit").type(RestParamType.query).dataType("integer")
                        .description("page size, default 50, at most 500").endParam()
                    .param().name("afterSeq").type(RestParamType.query).dataType("integer")
                        .description("only messages with a seq above this (keyset paging)").endParam()
                    .param().name("offset").type(RestParamType.query).dataType("integer")
                        .description("rows to skip (threads without seq)").endParam()
                    .responseMessage("200", "a page of the thread's stored results")
                    .responseMessage("400", ERROR + "invalid thread id or query parameter")
                    .responseMessage("401", ERROR + "missing or wrong X-API-Key")
                    .responseMessage("503", ERROR + "the database is unavailable; retry")
                    .responseMessage("default", UNEXPECTED)
                    .to("direct:api-thread-messages");

        from("direct:api-post-message").routeId("api-post-message")
                .process(exchange -> {
                    String json = readJsonBody(exchange);
                    ThreadMessage message = validator.parse(json);
                    Message out = exchange.getMessage();
                    // nothing of the HTTP request travels on to the broker but what we set here
                    out.removeHeaders("*");
                    out.setHeader(Headers.RECEIVED_AT, System.currentTimeMillis());
                    out.setHeader(Headers.JMS_GROUP, message.threadId());
                    out.setHeader(Headers.RABBIT_ROUTING_KEY, message.threadId());
                    out.setBody(Json.write(message));
                    exchange.setProperty("arMessageId", message.id());
                })
                .to(ExchangePattern.InOnly, "{{app.endpoints.inbound-publish}}")
                .process(exchange -> {
                    Message out = exchange.getMessage();
                    out.removeHeaders("*");
                    out.setHeader(Exchange.HTTP_RESPONSE_CODE, 202);
                    out.setHeader(Exchange.CONTENT_TYPE, "application/json");
                    out.setBody(Json.MAPPER.createObjectNode().put("id", exchange.getProperty("arMessageId", String.class)).toString());
                });

        from("direct:api-fetch").routeId("api-fetch")
                .process(exchange -> {
                    JsonNode request = parseJson(readJsonBody(exchange));
                    JsonNode urls = request.isObject() ? request.get("urls") : null;
                    if (urls == null || request.size() != 1) {
                        throw new RejectedInputException(422, "invalid_request", "body must be {\"urls\": [...]}");
                    }
                    exchange.getMessage().removeHeaders("*");
                    exchange.getMessage().setBody(validator.fetchUrls(urls));
                })
                .to("direct:fetch-all")
                .process(exchange -> {
                    // the gathered items are written straight into the response bytes, once: no
                    // second tree, no intermediate String
                    List<?> results = exchange.getMessage().getBody(List.class);
                    byte[] json = Json.MAPPER.writeValueAsBytes(Map.of("results", results));
                    Message out = exchange.getMessage();
                    out.removeHeaders("*");
                    out.setHeader(Exchange.HTTP_RESPONSE_CODE, 200);
                    out.setHeader(Exchange.CONTENT_TYPE, "application/json");
                    out.setBody(json);
                });

        ProducerTemplate template = getContext().createProducerTemplate();
        from("direct:api-chat").routeId("api-chat")
                .process(exchange -> {
                    ChatRequest request = ChatRequest.parse(parseJson(readJsonBody(exchange)));
                    // a template call, not .to(): chat-stream's own error handler (the retries)
                    // would otherwise keep this route's onException from mapping its failure
                    Exchange answer = template.send("direct:chat-stream", e -> e.getMessage()
                            .setBody(new ChatCall(request.turns(), request.model(), null)));
                    if (answer.getException() != null) {
                        throw answer.getException();
                    }
                    ChatStream stream = answer.getMessage().getBody(ChatStream.class);
                    Message out = exchange.getMessage();
                    out.removeHeaders("*");
                    if (request.stream()) {
                        // chunked: platform-http copies this stream to the client, flushing each read
                        out.setHeader(Exchange.HTTP_RESPONSE_CODE, 200);
                        out.setHeader(Exchange.CONTENT_TYPE, "text/event-stream");
                        out.setHeader(Exchange.HTTP_CHUNKED, true);
                        out.setHeader("Cache-Control", "no-cache");
                        out.setHeader("X-Accel-Buffering", "no");
                        out.setBody(stream.events());
                    } else {
                        respondJson(exchange, Json.MAPPER.createObjectNode()
                                .put("reply", stream.text(java.time.Duration.ofMinutes(10))).toString());
                    }
                });

        from("direct:api-get-message").routeId("api-get-message")
                .process(exchange -> {
                    String id = exchange.getMessage().getHeader("id", String.class);
                    if (!MessageValidator.isIdentifier(id)) {
                        throw new RejectedInputException(400, "invalid_id", "id must be 1-128 characters of [A-Za-z0-9._:-]");
                    }
                    exchange.getMessage().setBody(Map.of("id", id));
                })
                .to("sql:" + MessageSql.BY_ID + "?outputType=SelectList")
                .process(exchange -> {
                    List<?> rows = exchange.getMessage().getBody(List.class);
                    if (rows == null || rows.isEmpty()) {
                        throw new RejectedInputException(404, "not_found", "no message with this id");
                    }
                    respondJson(exchange, (String) ((Map<?, ?>) rows.get(0)).get("result"));
                });

        from("direct:api-thread-messages").routeId("api-thread-messages")
                .process(this::threadQuery)
                .choice()
                    .when(exchangeProperty("arAfterSeq").isNotNull())
                        .to("sql:" + MessageSql.THREAD_AFTER_SEQ + "?outputType=SelectList")
                    .otherwise()
                        .to("sql:" + MessageSql.THREAD_PAGE + "?outputType=SelectList")
                .end()
                .process(this::threadPage);
    }

    private String readJsonBody(Exchange exchange) throws IOException {
        Message in = exchange.getMessage();
        String contentType = in.getHeader(Exchange.CONTENT_TYPE, String.class);
        if (contentType == null || !isJson(contentType)) {
            throw new RejectedInputException(415, "unsupported_media_type", "Content-Type must be application/json");
        }
        int max = settings.getLimits().getMaxBodyBytes();
        Long declared = in.getHeader(Exchange.CONTENT_LENGTH, Long.class);
        if (declared != null && declared > max) {
            throw tooLarge(max);
        }
        byte[] bytes;
        Object body = in.getBody();
        if (body instanceof InputStream stream) {
            bytes = stream.readNBytes(max + 1);
        } else {
            bytes = in.getBody(byte[].class);
        }
        if (bytes == null) {
            bytes = new byte[0];
        }
        if (bytes.length > max) {
            throw tooLarge(max);
        }
        return MessageValidator.utf8(bytes);
    }

    private static JsonNode parseJson(String json) {
        try {
            return Json.MAPPER.readTree(json);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw RejectedInputException.invalidJson(e.getOriginalMessage());
        }
    }

    private static boolean isJson(String contentType) {
        String type = contentType.split(";", 2)[0].trim().toLowerCase();
        return type.equals("application/json") || (type.startsWith("application/") && type.endsWith("+json"));
    }

    private static RejectedInputException tooLarge(int max) {
        return new RejectedInputException(413, "payload_too_large", "request body is larger than " + max + " bytes");
    }

    private void threadQuery(Exchange exchange) {
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
        params.put("limit", limit + 1); // one extra row tells whether there is a next page
        params.put("afterSeq", afterSeq);
        params.put("offset", offset);
        exchange.setProperty("arThreadId", threadId);
        exchange.setProperty("arLimit", limit);
        exchange.setProperty("arAfterSeq", afterSeq);
        exchange.setProperty("arOffset", offset);
        in.setBody(params);
    }

    private void threadPage(Exchange exchange) {
        List<?> rows = exchange.getMessage().getBody(List.class);
        long limit = exchange.getProperty("arLimit", Long.class);
        boolean more = rows.size() > limit;
        List<?> page = more ? rows.subList(0, (int) limit) : rows;
        StringBuilder json = new StringBuilder(256).append("{\"items\":[");
        Long lastSeq = null;
        for (int i = 0; i < page.size(); i++) {
            String result = (String) ((Map<?, ?>) page.get(i)).get("result");
            json.append(i == 0 ? "" : ",").append(result);
            if (i == page.size() - 1) {
                lastSeq = Json.read(result, io.asyncroutes.pipeline.MessageResult.class).getSeq();
            }
        }
        String next = null;
        if (more) {
            String base = "/api/threads/" + exchange.getProperty("arThreadId") + "/messages?limit=" + limit;
            next = exchange.getProperty("arAfterSeq") != null
                    ? base + "&afterSeq=" + lastSeq
                    : base + "&offset=" + (exchange.getProperty("arOffset", Long.class) + limit);
        }
        json.append("],\"next\":").append(next == null ? "null" : Json.write(next)).append('}');
        respondJson(exchange, json.toString());
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

    private static void respondJson(Exchange exchange, String json) {
        Message out = exchange.getMessage();
        out.removeHeaders("*");
        out.setHeader(Exchange.HTTP_RESPONSE_CODE, 200);
        out.setHeader(Exchange.CONTENT_TYPE, "application/json");
        out.setBody(json);
    }
}
