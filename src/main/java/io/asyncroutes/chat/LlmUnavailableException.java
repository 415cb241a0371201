package io.asyncroutes.chat;

/** No LLM is configured ({@code app.llm.base-url} is empty): /api/chat answers 503, replies record the error. */
public class LlmUnavailableException extends RuntimeException {

    public LlmUnavailableException() {
        super("no LLM is configured (set app.llm.base-url)");
    }
}
