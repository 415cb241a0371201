package io.asyncroutes.intake;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.asyncroutes.message.ThreadMessage;
import io.asyncroutes.settings.AppSettings;
import io.asyncroutes.support.Json;
import io.asyncroutes.support.RejectedInputException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.regex.Pattern;

/**
 * The message contract of the message contract (README "REST API"), applied identically by the REST intake and the queue intake.
 * Collects every problem of a message (not just the first) so a client can fix them in one go.
 */
public class MessageValidator {

    /** Ids and thread ids end up in Redis keys and URLs: a strict alphabet keeps them inert. */
    public static final Pattern ID_PATTERN = Pattern.compile("[A-Za-z0-9._:-]{1,128}");

    private static final Set<String> FIELDS = Set.of("id", "threadId", "seq", "content", "fetch", "reply", "metadata");

    private final AppSettings.Limits limits;

    public MessageValidator(AppSettings.Limits limits) {
        this.limits = limits;
    }

    /** Parses and validates raw JSON text. */
    public ThreadMessage parse(String json) {
        if (json == null || json.isBlank()) {
            throw new RejectedInputException(400, "invalid_json", "request body is empty", List.of());
        }
        JsonNode node;
        try {
            node = Json.MAPPER.readTree(json);
        } catch (JsonProcessingException e) {
            throw RejectedInputException.invalidJson(e.getOriginalMessage());
        }
        return validate(node);
    }

    public ThreadMessage validate(JsonNode node) {
        if (node == null || !node.isObject()) {
            throw new RejectedInputException(400, "invalid_json", "message must be a JSON object", List.of());
        }
        List<String> problems = new ArrayList<>();
        for (Iterator<String> names = node.fieldNames(); names.hasNext(); ) {
            String name = names.next();
            if (!FIELDS.contains(name)) {
                problems.add(safe(name) + ": unknown field");
            }
        }

        String id = null;
        JsonNode idNode = node.get("id");
        if (idNode != null && !idNode.isNull()) {
            id = identifier("id", idNode, problems);
        }
        String threadId = null;
        JsonNode threadNode = node.get("threadId");
        if (threadNode == null || threadNode.isNull()) {
            problems.add("threadId: required");
        } else {
            threadId = identifier("threadId", threadNode, problems);
        }

        Long seq = null;
        JsonNode seqNode = node.get("seq");
        if (seqNode != null && !seqNode.isNull()) {
            if (!seqNode.isIntegralNumber() || !seqNode.canConvertToLong()) {
                problems.add("seq: must be an integer >= 1");
            } else if (seqNode.longValue() < 1) {
                problems.add("seq: must be >= 1");
            } else {
                seq = seqNode.longValue();
            }
        }

        String content = null;
        boolean contentTooLarge = false;
        JsonNode contentNode = node.get("content");
        if (contentNode == null || contentNode.isNull()) {
            problems.add("content: required");
        } else if (!contentNode.isTextual()) {
            problems.add("content: must be a string");
        } else {
            content = contentNode.textValue();
            if (!wellFormed(content)) {
                problems.add("content: contains an unpaired surrogate");
            } else if (content.getBytes(StandardCharsets.UTF_8).length > limits.getMaxContentBytes()) {
                contentTooLarge = true;
                problems.add("content: larger than " + limits.getMaxContentBytes() + " bytes");
            }
        }

        List<String> fetch = List.of();
        JsonNode fetchNode = node.get("fetch");
        if (fetchNode != null && !fetchNode.isNull()) {
            fetch = urls(fetchNode, problems);
        }

        boolean reply = false;
        JsonNode replyNode = node.get("reply");
        if (replyNode != null && !replyNode.isNull()) {
            if (!replyNode.isBoolean()) {
                problems.add("reply: must be a boolean");
            } else {
                reply = replyNode.booleanValue();
            }
        }

        ObjectNode metadata = null;
        JsonNode metadataNode = node.get("metadata");
        if (metadataNode != null && !metadataNode.isNull()) {
            if (!metadataNode.isObject()) {
                problems.add("metadata: must be a JSON object");
            } else if (serializedSize(metadataNode) > limits.getMaxMetadataBytes()) {
                problems.add("metadata: larger than " + limits.getMaxMetadataBytes() + " bytes (or not encodable)");
            } else {
                metadata = (ObjectNode) metadataNode;
            }
        }

        if (!problems.isEmpty()) {
            if (contentTooLarge && problems.size() == 1) {
                throw new RejectedInputException(413, "payload_too_large", "content is too large", problems);
            }
            throw new RejectedInputException(422, "invalid_message", "message does not match the contract", problems);
        }
        return new ThreadMessage(id != null ? id : UUID.randomUUID().toString(), threadId, seq, content, fetch, reply, metadata);
    }

    /** Is this a usable id/thread id? Shared with the read API's path parameters. */
    public static boolean isIdentifier(String value) {
        return value != null && ID_PATTERN.matcher(value).matches();
    }

    private static String identifier(String field, JsonNode value, List<String> problems) {
        if (!value.isTextual()) {
            problems.add(field + ": must be a string");
            return null;
        }
        if (!isIdentifier(value.textValue())) {
            problems.add(field + ": must be 1-128 characters of [A-Za-z0-9._:-]");
            return null;
        }
        return value.textValue();
    }

    /** The {@code urls} of a fetch request, by the same rules as a message's {@code fetch}. */
    public List<String> fetchUrls(JsonNode node) {
        List<String> problems = new ArrayList<>();
        List<String> urls = urls(node, problems);
        if (!problems.isEmpty()) {
            throw new RejectedInputException(422, "invalid_request", "urls must be an array of http/https URLs",
                    problems.stream().map(p -> p.replaceFirst("^fetch", "urls")).toList());
        }
        if (urls.isEmpty()) {
            throw new RejectedInputException(422, "invalid_request", "urls must not be empty");
        }
        return urls;
    }

    private List<String> urls(JsonNode node, List<String> problems) {
        if (!node.isArray()) {
            problems.add("fetch: must be an array of URLs");
            return List.of();
        }
        if (node.size() > limits.getMaxFetchUrls()) {
            problems.add("fetch: at most " + limits.getMaxFetchUrls() + " URLs");
            return List.of();
        }
        List<String> urls = new ArrayList<>(node.size());
        for (int i = 0; i < node.size(); i++) {
            JsonNode item = node.get(i);
            if (!item.isTextual() || !isHttpUrl(item.textValue())) {
                problems.add("fetch[" + i + "]: must be an absolute http or https URL");
            } else {
                urls.add(item.textValue());
            }
        }
        return List.copyOf(urls);
    }

    static boolean isHttpUrl(String text) {
        if (text.length() > 2048) {
            return false;
        }
        try {
            URI uri = new URI(text);
            String scheme = uri.getScheme();
            return uri.isAbsolute() && uri.getHost() != null
                    && ("http".equalsIgnoreCase(scheme) || "https".equalsIgnoreCase(scheme));
        } catch (Exception e) {
            return false;
        }
    }

    private static int serializedSize(JsonNode node) {
        try {
            return Json.MAPPER.writeValueAsBytes(node).length;
        } catch (JsonProcessingException e) {
            return Integer.MAX_VALUE;
        }
    }

    private static boolean wellFormed(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (Character.isHighSurrogate(c)) {
                if (i + 1 >= s.length() || !Character.isLowSurrogate(s.charAt(i + 1))) {
                    return false;
                }
                i++;
            } else if (Character.isLowSurrogate(c)) {
                return false;
            }
        }
        return true;
    }

    /** Echo user-supplied field names safely in an error message. */
    private static String safe(String name) {
        String cut = name.length() > 64 ? name.substring(0, 64) + "…" : name;
        return cut.replaceAll("[^\\x20-\\x7E]", "?");
    }

    /**
     * The text of a message body: bytes are decoded as strict UTF-8, so the REST and the queue intake
     * refuse the same input (a lenient decoder would replace bad bytes and store altered content).
     */
    public static String utf8(Object body) {
        if (!(body instanceof byte[] bytes)) {
            return body == null ? "" : body.toString();
        }
        try {
            return java.nio.charset.StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(java.nio.charset.CodingErrorAction.REPORT)
                    .onUnmappableCharacter(java.nio.charset.CodingErrorAction.REPORT)
                    .decode(java.nio.ByteBuffer.wrap(bytes)).toString();
        } catch (java.nio.charset.CharacterCodingException e) {
            throw RejectedInputException.invalidJson("body is not valid UTF-8");
        }
    }
}
