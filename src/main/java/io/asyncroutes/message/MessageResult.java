package io.asyncroutes.message;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * The result record of the message contract (README "REST API"): the message fields plus what handling produced. It is what the
 * database stores, the read API returns and the results queue carries. Mutable because the
 * pipeline's steps (fetch, reply, ...) each fill in their part.
 */
public class MessageResult {

    public static final String PROCESSED = "processed";
    public static final String FAILED = "failed";
    public static final String DUPLICATE = "duplicate";
    /** A predecessor handled after its gap was skipped (it arrived later than the gap timeout). */
    public static final String LATE = "late";

    private String id;
    private String threadId;
    private Long seq;
    private String content;
    private List<String> fetch = List.of();
    private boolean replyRequested;
    private ObjectNode metadata;
    private String status;
    private List<JsonNode> context = new ArrayList<>();
    private String reply;
    private String error;
    private Instant receivedAt;
    private Instant processedAt;

    public static MessageResult of(ThreadMessage message, Instant receivedAt) {
        MessageResult r = new MessageResult();
        r.id = message.id();
        r.threadId = message.threadId();
        r.seq = message.seq();
        r.content = message.content();
        r.fetch = message.fetch();
        r.replyRequested = message.reply();
        r.metadata = message.metadata();
        r.receivedAt = receivedAt;
        return r;
    }

    public String getId() { return id; }
    public void setId(String id) { this.id = id; }
    public String getThreadId() { return threadId; }
    public void setThreadId(String threadId) { this.threadId = threadId; }
    public Long getSeq() { return seq; }
    public void setSeq(Long seq) { this.seq = seq; }
    public String getContent() { return content; }
    public void setContent(String content) { this.content = content; }
    public List<String> getFetch() { return fetch; }
    public void setFetch(List<String> fetch) { this.fetch = fetch; }
    public boolean isReplyRequested() { return replyRequested; }
    public void setReplyRequested(boolean replyRequested) { this.replyRequested = replyRequested; }
    public ObjectNode getMetadata() { return metadata; }
    public void setMetadata(ObjectNode metadata) { this.metadata = metadata; }
    public String getStatus() { return status; }
    public void setStatus(String status) { this.status = status; }
    public List<JsonNode> getContext() { return context; }
    public void setContext(List<JsonNode> context) { this.context = context; }
    public String getReply() { return reply; }
    public void setReply(String reply) { this.reply = reply; }
    public String getError() { return error; }
    public void setError(String error) { this.error = error; }
    public Instant getReceivedAt() { return receivedAt; }
    public void setReceivedAt(Instant receivedAt) { this.receivedAt = receivedAt; }
    public Instant getProcessedAt() { return processedAt; }
    public void setProcessedAt(Instant processedAt) { this.processedAt = processedAt; }
}
