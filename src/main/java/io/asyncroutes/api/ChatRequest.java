package io.asyncroutes.api;

import com.fasterxml.jackson.databind.JsonNode;
import io.asyncroutes.chat.LlmClient;
import io.asyncroutes.support.RejectedInputException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Set;

/** The body of {@code POST /api/chat}: {@code {messages: [{role, content}], model?, stream?}}, validated. */
record ChatRequest(List<LlmClient.Turn> turns, String model, boolean stream) {

    static final int MAX_MESSAGES = 200;
    static final int MAX_TOTAL_CHARS = 200_000;
    private static final Set<String> ROLES = Set.of("system", "user", "assistant");
    private static final Set<String> FIELDS = Set.of("messages", "model", "stream");

    static ChatRequest parse(JsonNode body) {
        if (!body.isObject()) {
            throw new RejectedInputException(400, "invalid_json", "request must be a JSON object");
        }
        List<String> problems = new ArrayList<>();
        for (Iterator<String> names = body.fieldNames(); names.hasNext(); ) {
            String name = names.next();
            if (!FIELDS.contains(name)) {
                problems.add(name.replaceAll("[^\\x20-\\x7E]", "?") + ": unknown field");
            }
        }
        List<LlmClient.Turn> turns = new ArrayList<>();
        JsonNode messages = body.get("messages");
        if (messages == null || !messages.isArray() || messages.isEmpty()) {
            problems.add("messages: required, a non-empty array of {role, content}");
        } else if (messages.size() > MAX_MESSAGES) {
            problems.add("messages: at most " + MAX_MESSAGES);
        } else {
            int chars = 0;
            for (int i = 0; i < messages.size(); i++) {
                JsonNode m = messages.get(i);
                String role = m.path("role").asText(null);
                JsonNode content = m.get("content");
                if (!m.isObject() || role == null || !ROLES.contains(role)) {
                    problems.add("messages[" + i + "].role: one of system, user, assistant");
                } else if (content == null || !content.isTextual()) {
                    problems.add("messages[" + i + "].content: must be a string");
                } else {
                    chars += content.textValue().length();
                    turns.add(new LlmClient.Turn(role, content.textValue()));
                }
            }
            if (chars > MAX_TOTAL_CHARS) {
                throw new RejectedInputException(413, "payload_too_large", "messages hold more than " + MAX_TOTAL_CHARS + " characters");
            }
        }
        JsonNode model = body.get("model");
        if (model != null && !model.isNull() && (!model.isTextual() || !model.textValue().matches("[A-Za-z0-9._:/-]{1,128}"))) {
            problems.add("model: 1-128 characters of [A-Za-z0-9._:/-]");
        }
        JsonNode stream = body.get("stream");
        if (stream != null && !stream.isNull() && !stream.isBoolean()) {
            problems.add("stream: must be a boolean");
        }
        if (!problems.isEmpty()) {
            throw new RejectedInputException(422, "invalid_request", "chat request does not match the contract", problems);
        }
        return new ChatRequest(turns, model == null || model.isNull() ? null : model.textValue(),
                stream != null && stream.asBoolean());
    }
}
