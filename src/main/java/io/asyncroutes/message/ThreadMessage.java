package io.asyncroutes.message;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;

/**
 * An inbound message after validation (the message contract, README "REST API"): {@code id} is always set, optional fields are
 * normalised ({@code fetch} empty rather than absent).
 */
public record ThreadMessage(
        String id,
        String threadId,
        Long seq,
        String content,
        List<String> fetch,
        boolean reply,
        ObjectNode metadata) {
}
