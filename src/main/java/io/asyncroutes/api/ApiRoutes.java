package io.asyncroutes.api;

import io.asyncroutes.chat.LlmUnavailableException;
import io.asyncroutes.fetch.UpstreamStatusException;
import io.asyncroutes.intake.MessageValidator;
import io.asyncroutes.message.ExchangeProperties;
import io.asyncroutes.persistence.MessageSql;
import io.asyncroutes.settings.AppSettings;
import io.asyncroutes.support.RejectedInputException;
import org.apache.camel.ExchangePattern;
import org.apache.camel.StreamCacheException;
import org.apache.camel.builder.RouteBuilder;
import org.apache.camel.model.rest.RestBindingMode;
import org.apache.camel.model.rest.RestDefinition;
import org.apache.camel.model.rest.RestParamType;

/**
 * The REST API (REST DSL on platform-http): the verbs, each declaring every status it answers (so
 * the OpenAPI document at {@code /api/openapi.json} lists them), and their routes, which read as
 * their steps; the work is in {@link ApiHandlers}, the error mapping in {@link ApiError}. Camel
 * inlines each REST verb with its {@code direct:} route, so the route ids are those of the
 * {@code from("direct:api-...")} routes. Client mistakes always end as a JSON error with a 4xx
 * status; a dependency that is down answers 503, never a bare 500.
 */
public class ApiRoutes extends RouteBuilder {

    // Response codes as strings: in Camel 4.17 responseMessage(int, String) builds the message but never
    // adds it to the verb (the String variant does), so int codes silently vanish from the OpenAPI document.

    /** Every error answer has the same shape ({@link ApiError}). */
    private static final String ERROR = "JSON error {\"error\": code, \"message\", \"details\": [...]}: ";

    private static final String UNEXPECTED = ERROR + "500 internal_error: a fault of ours, logged with its cause";

    private final MessageValidator validator;
    private final AppSettings settings;

    /** The errors every verb with a JSON body can answer. */
    private static RestDefinition withJsonBodyErrors(RestDefinition verb) {
        return verb.responseMessage("400", ERROR + "the body is not JSON (or not UTF-8 text)")
                .responseMessage("401", ERROR + "missing or wrong X-API-Key (when an API key is set)")
                .responseMessage("413", ERROR + "the body is too large")
                .responseMessage("415", ERROR + "Content-Type is not application/json")
                .responseMessage("default", UNEXPECTED);
    }

    /** The errors every read from the database can answer. */
    private static RestDefinition withReadErrors(RestDefinition verb) {
        return verb.responseMessage("401", ERROR + "missing or wrong X-API-Key (when an API key is set)")
                .responseMessage("503", ERROR + "the database is unavailable; retry")
                .responseMessage("default", UNEXPECTED);
    }

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

        onException(RejectedInputException.class).handled(true).process(ApiError::rejected);
        // the request body could not be read into text (not UTF-8, cut short): the client's bytes, never worth a retry
        onException(StreamCacheException.class).handled(true).process(ApiError::unreadableBody);
        onException(LlmUnavailableException.class).handled(true).process(ApiError::llmUnavailable);
        onException(UpstreamStatusException.class).handled(true).process(ApiError::llmFailed);
        onException(Exception.class).handled(true).process(ApiError::unexpected);

        RestDefinition api = rest("/api").description("Conversation-thread messages");
        withJsonBodyErrors(api.post("/messages")
                .description("Accept a message for processing (202 with its id)")
                .consumes("application/json").produces("application/json")
                .param().name("body").type(RestParamType.body).description("Message: id?, threadId, seq?, content, fetch?, reply?, metadata?").endParam()
                .responseMessage("202", "accepted: on the durable inbound queue, {\"id\": ...}")
                .responseMessage("422", ERROR + "the message breaks the contract; details name each field")
                .responseMessage("503", ERROR + "the broker is unavailable or the application is starting; retry"))
                .to("direct:api-post-message");
        withJsonBodyErrors(api.post("/fetch")
                .description("Fetch JSON from URLs in parallel: {\"urls\": [...]} -> {\"results\": [...]} in input order")
                .consumes("application/json").produces("application/json")
                .param().name("body").type(RestParamType.body).description("{\"urls\": [absolute http/https URLs]}").endParam()
                .responseMessage("200", "one result per URL, in input order: its value or its error")
                .responseMessage("422", ERROR + "not {\"urls\": [...]}, too many URLs, or a URL that is not absolute http/https")
                .responseMessage("503", ERROR + "the application is starting; retry"))
                .to("direct:api-fetch");
        withJsonBodyErrors(api.post("/chat")
                .description("Chat with the configured LLM: {messages:[{role, content}], model?, stream?};"
                        + " stream=true answers text/event-stream, chunk by chunk, then [DONE]")
                .consumes("application/json").produces("application/json,text/event-stream")
                .param().name("body").type(RestParamType.body).description("{\"messages\": [...], \"model\": ..., \"stream\": true}").endParam()
                .responseMessage("200", "the answer (JSON), or its chunks as Server-Sent Events when stream is true")
                .responseMessage("422", ERROR + "the chat request breaks the contract")
                .responseMessage("502", ERROR + "the LLM answered with an error")
                .responseMessage("503", ERROR + "no LLM configured, or it is unreachable; retry"))
                .to("direct:api-chat");
        withReadErrors(api.get("/messages/{id}")
                .description("The result record of one message (404 if unknown)")
                .produces("application/json")
                .responseMessage("200", "the stored result: the message, its status, context, reply, timestamps")
                .responseMessage("400", ERROR + "the id is not 1-128 characters of [A-Za-z0-9._:-]")
                .responseMessage("404", ERROR + "no message with this id (yet)"))
                .to("direct:api-get-message");
        withReadErrors(api.get("/threads/{threadId}/messages")
                .description("A thread's history in seq order, then arrival order")
                .produces("application/json")
                .param().name("limit").type(RestParamType.query).dataType("integer")
                    .description("page size, default 50, at most 500").endParam()
                .param().name("afterSeq").type(RestParamType.query).dataType("integer")
                    .description("only messages with a seq above this (keyset paging)").endParam()
                .param().name("offset").type(RestParamType.query).dataType("integer")
                    .description("rows to skip (threads without seq)").endParam()
                .responseMessage("200", "a page of the thread's stored results")
                .responseMessage("400", ERROR + "invalid thread id or query parameter"))
                .to("direct:api-thread-messages");

        ApiHandlers handlers = new ApiHandlers(validator, settings, getContext().createProducerTemplate());
        from("direct:api-post-message").routeId("api-post-message")
                .process(handlers::acceptMessage)
                .to(ExchangePattern.InOnly, "{{app.endpoints.inbound-publish}}")
                .process(handlers::accepted);

        from("direct:api-fetch").routeId("api-fetch")
                .process(handlers::fetchRequest)
                .to("direct:fetch-all")
                .process(handlers::fetchResults);

        from("direct:api-chat").routeId("api-chat")
                .process(handlers::chat);

        from("direct:api-get-message").routeId("api-get-message")
                .process(handlers::messageQuery)
                .to("sql:" + MessageSql.BY_ID + "?outputType=SelectList")
                .process(handlers::messageRecord);

        from("direct:api-thread-messages").routeId("api-thread-messages")
                .process(handlers::threadQuery)
                .choice()
                    .when(exchangeProperty(ExchangeProperties.API_AFTER_SEQ).isNotNull())
                        .to("sql:" + MessageSql.THREAD_AFTER_SEQ + "?outputType=SelectList")
                    .otherwise()
                        .to("sql:" + MessageSql.THREAD_PAGE + "?outputType=SelectList")
                .end()
                .process(handlers::threadPage);
    }
}
