package io.asyncroutes.chat;

import dev.langchain4j.data.message.AiMessage;
import dev.langchain4j.data.message.ChatMessage;
import dev.langchain4j.data.message.SystemMessage;
import dev.langchain4j.data.message.UserMessage;
import dev.langchain4j.exception.HttpException;
import dev.langchain4j.exception.RetriableException;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.model.chat.response.PartialResponse;
import dev.langchain4j.model.chat.response.PartialResponseContext;
import dev.langchain4j.model.chat.response.StreamingChatResponseHandler;
import dev.langchain4j.model.openai.OpenAiStreamingChatModel;
import io.asyncroutes.fetch.UpstreamStatusException;
import io.asyncroutes.settings.AppSettings;
import io.asyncroutes.support.DaemonThreads;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Consumer;

/**
 * The OpenAI-compatible streaming chat client: langchain4j's {@link OpenAiStreamingChatModel}
 * (with its JDK HTTP client), so no SSE is parsed by hand here. Works with OpenAI, Ollama, vLLM
 * and llama.cpp servers alike; base URL, key, model and timeouts come from {@code app.llm.*}.
 */
public class LlmClient implements AutoCloseable {

    /** One message of a conversation, as the API and the pipeline hand it over. */
    public record Turn(String role, String content) {
    }

    private final AppSettings.Llm settings;
    private final OpenAiStreamingChatModel model;
    /**
     * Where each request is started. langchain4j's JDK client chains the stream parser onto
     * {@code sendAsync(...)} with a plain {@code thenAccept}: when the response headers come back
     * before that call (a caller descheduled for a moment), the whole stream is read on the
     * calling thread, so {@link #start} returned only at the end and the relay got every chunk at
     * once. Started here, that thread is never the caller's.
     */
    private final ExecutorService starter = Executors.newCachedThreadPool(DaemonThreads.named("llm-stream"));

    public LlmClient(AppSettings.Llm settings) {
        this.settings = settings;
        this.model = settings.isConfigured() ? OpenAiStreamingChatModel.builder()
                .baseUrl(settings.getBaseUrl())
                .apiKey(settings.getApiKey() == null || settings.getApiKey().isBlank() ? "none" : settings.getApiKey())
                .modelName(settings.getModel())
                .timeout(settings.getTimeout())
                .build() : null;
    }

    public boolean isConfigured() {
        return model != null;
    }

    public AppSettings.Llm settings() {
        return settings;
    }

    /**
     * Starts one streamed answer and returns at once; chunks flow into the returned stream.
     *
     * @param modelName a model other than the configured one, or null
     * @param onChunk   called with each chunk as it arrives, or null
     */
    public ChatStream start(List<Turn> turns, String modelName, Consumer<String> onChunk) {
        if (model == null) {
            throw new LlmUnavailableException();
        }
        ChatStream stream = new ChatStream(onChunk);
        ChatRequest request = ChatRequest.builder()
                .messages(toMessages(turns))
                .modelName(modelName == null || modelName.isBlank() ? settings.getModel() : modelName)
                .build();
        StreamingChatResponseHandler handler = new StreamingChatResponseHandler() {
            private boolean handleSet;

            @Override
            public void onPartialResponse(PartialResponse partial, PartialResponseContext context) {
                if (!handleSet) {
                    handleSet = true;
                    stream.onCancel(context.streamingHandle()::cancel);
                }
                stream.chunk(partial.text());
            }

            @Override
            public void onCompleteResponse(ChatResponse response) {
                stream.complete();
            }

            @Override
            public void onError(Throwable error) {
                stream.fail(translate(error));
            }
        };
        starter.execute(() -> {
            try {
                model.chat(request, handler);
            } catch (RuntimeException e) {
                stream.fail(translate(e));
            }
        });
        return stream;
    }

    /** Stops the starter threads; streams already running go on until they end. */
    @Override
    public void close() {
        starter.shutdown();
    }

    /** Maps client errors onto the project's retry classification (transient or not). */
    static Exception translate(Throwable error) {
        for (Throwable t = error; t != null; t = t.getCause()) {
            if (t instanceof HttpException http) {
                return new UpstreamStatusException(http.statusCode(), null);
            }
        }
        if (error instanceof RetriableException || error instanceof IOException) {
            return new IOException("LLM request failed: " + error.getMessage(), error);
        }
        return error instanceof Exception e ? e : new IllegalStateException(error);
    }

    private static List<ChatMessage> toMessages(List<Turn> turns) {
        List<ChatMessage> messages = new ArrayList<>(turns.size());
        for (Turn turn : turns) {
            messages.add(switch (turn.role()) {
                case "system" -> SystemMessage.from(turn.content());
                case "assistant" -> AiMessage.from(turn.content());
                default -> UserMessage.from(turn.content());
            });
        }
        return messages;
    }
}
