package io.asyncroutes.chat;

import com.fasterxml.jackson.databind.JsonNode;
import io.asyncroutes.fetch.FetchGather;
import io.asyncroutes.fetch.HttpRetryConfiguration;
import io.asyncroutes.message.ExchangeProperties;
import io.asyncroutes.message.Headers;
import io.asyncroutes.message.MessageResult;
import io.asyncroutes.state.ThreadHistory;
import io.asyncroutes.support.Json;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import org.apache.camel.Exchange;
import org.apache.camel.ProducerTemplate;
import org.apache.camel.builder.RouteBuilder;

/**
 * The seed's {@code stream_llm_response}:
 *
 * <ul>
 *   <li>{@code chat-stream}: body {@link ChatCall} → body {@link ChatStream}. Opens the upstream
 *   stream and returns once the first chunk is there, so the shared
 *   {@value HttpRetryConfiguration#HTTP_RETRY} configuration retries a failure only before the
 *   first chunk; after it, an upstream error becomes an {@code error} event.</li>
 *   <li>{@code read-history}: the thread's recent turns from Redis for a reply, as property
 *   {@link ExchangeProperties#REPLY_HISTORY}; one of the sources {@code handle-message} gathers in parallel
 *   (multicast) before {@code chat-reply}.</li>
 *   <li>{@code chat-reply}: the reply step of {@code handle-message}. Builds the conversation from
 *   the system prompt, the thread's history (Redis), the fetched context and the message, streams the answer (each chunk to
 *   {@code app.llm.chunk-endpoint} if set) and stores the assembled text in the result. Without an
 *   LLM, or when the LLM fails, the message is still handled and the result says why.</li>
 * </ul>
 */
public class ChatRoutes extends RouteBuilder {

    private final LlmClient client;
    private final ThreadHistory history;

    public ChatRoutes(LlmClient client, ThreadHistory history) {
        this.client = client;
        this.history = history;
    }

    @Override
    public void configure() {
        from("direct:chat-stream").routeId("chat-stream")
                .routeConfigurationId(HttpRetryConfiguration.HTTP_RETRY)
                .setProperty(ExchangeProperties.RETRY_TARGET, constant("LLM " + client.settings().getBaseUrl()))
                .process(exchange -> {
                    ChatCall call = exchange.getMessage().getBody(ChatCall.class);
                    ChatStream stream = client.start(call.turns(), call.model(), call.onChunk());
                    stream.awaitFirstChunk(client.settings().getTimeout());
                    exchange.getMessage().setBody(stream);
                });

        from("direct:read-history").routeId("read-history")
                .process(exchange -> {
                    MessageResult result = exchange.getMessage().getBody(MessageResult.class);
                    exchange.setProperty(ExchangeProperties.REPLY_HISTORY,
                            history.recent(result.getThreadId(), client.settings().getHistoryTurns()));
                });

        ProducerTemplate template = getContext().createProducerTemplate();
        String chunkEndpoint = client.settings().getChunkEndpoint();
        from("direct:chat-reply").routeId("chat-reply")
                .process(exchange -> {
                    MessageResult result = exchange.getMessage().getBody(MessageResult.class);
                    if (!client.isConfigured()) {
                        result.setError(new LlmUnavailableException().getMessage());
                        return;
                    }
                    Consumer<String> onChunk = chunkEndpoint == null || chunkEndpoint.isBlank() ? null
                            : chunk -> template.sendBodyAndHeader(chunkEndpoint, chunk, Headers.MESSAGE_ID, result.getId());
                    @SuppressWarnings("unchecked")
                    List<String> turns = exchange.getProperty(ExchangeProperties.REPLY_HISTORY, List.class);
                    if (turns == null) { // not gathered beforehand
                        turns = history.recent(result.getThreadId(), client.settings().getHistoryTurns());
                    }
                    List<LlmClient.Turn> conversation = conversation(result, turns);
                    Exchange answer = template.send("direct:chat-stream",
                            e -> e.getMessage().setBody(new ChatCall(conversation, null, onChunk)));
                    try {
                        if (answer.getException() != null) {
                            throw answer.getException();
                        }
                        result.setReply(answer.getMessage().getBody(ChatStream.class).text(client.settings().getTimeout()));
                    } catch (Exception e) {
                        log.warn("Reply for message {} failed: {}", result.getId(), FetchGather.describe(e));
                        result.setStatus(MessageResult.FAILED);
                        result.setError("reply failed: " + FetchGather.describe(e));
                    }
                });
    }

    /** System prompt, the fetched context documents, the thread's recent turns, then the message itself. */
    List<LlmClient.Turn> conversation(MessageResult result, List<String> historyTurns) {
        List<LlmClient.Turn> turns = new ArrayList<>();
        turns.add(new LlmClient.Turn("system", client.settings().getSystemPrompt()));
        for (String json : historyTurns) {
            JsonNode turn = Json.read(json, JsonNode.class);
            if (!result.getId().equals(turn.path("id").asText())) { // a redelivered message is not its own history
                turns.add(new LlmClient.Turn(turn.path("role").asText("user"), turn.path("content").asText("")));
            }
        }
        for (JsonNode item : result.getContext()) {
            if (item.path("ok").asBoolean()) {
                turns.add(new LlmClient.Turn("system", "Context from " + item.path("url").asText() + ":\n"
                        + item.path("body").toString()));
            }
        }
        turns.add(new LlmClient.Turn("user", result.getContent()));
        return turns;
    }
}
