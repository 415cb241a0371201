package io.asyncroutes.chat;

import java.util.List;
import java.util.function.Consumer;

/** A request for one streamed answer: the conversation, an optional model override, an optional chunk listener. */
public record ChatCall(List<LlmClient.Turn> turns, String model, Consumer<String> onChunk) {

    @Override
    public String toString() {
        return "ChatCall[" + turns.size() + " turns, model=" + model + "]";
    }
}
