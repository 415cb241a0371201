package io.asyncroutes.settings;

import java.time.Duration;

/**
 * Typed application settings ({@code app.*}). A plain POJO on purpose: Spring Boot binds it
 * (see {@code config/AsyncRoutesConfiguration}), while plain camel-main or Karaf can build it by hand.
 * Every default here is the documented default in the README's configuration table.
 */
public class AppSettings {

    private final Limits limits = new Limits();
    private final Persistence persistence = new Persistence();
    private final Intake intake = new Intake();
    private final Redis redis = new Redis();
    private final Security security = new Security();
    private final Idempotency idempotency = new Idempotency();
    private final Fetch fetch = new Fetch();
    private final Retry retry = new Retry();
    private final Llm llm = new Llm();
    private final Cleanup cleanup = new Cleanup();
    /** Database rows received longer ago than this are deleted by {@code cleanup-expired}. */
    private Duration retention = Duration.ofDays(7);
    private final Ordering ordering = new Ordering();
    private final Partitions partitions = new Partitions();

    public Limits getLimits() { return limits; }
    public Persistence getPersistence() { return persistence; }
    public Intake getIntake() { return intake; }
    public Redis getRedis() { return redis; }
    public Security getSecurity() { return security; }
    public Idempotency getIdempotency() { return idempotency; }
    public Fetch getFetch() { return fetch; }
    public Retry getRetry() { return retry; }
    public Llm getLlm() { return llm; }
    public Cleanup getCleanup() { return cleanup; }
    public Duration getRetention() { return retention; }
    public void setRetention(Duration v) { this.retention = v; }
    public Ordering getOrdering() { return ordering; }
    public Partitions getPartitions() { return partitions; }

    /** Input limits of the message contract (README "REST API"). */
    public static class Limits {
        /** Largest {@code content} in UTF-8 bytes. */
        private int maxContentBytes = 64 * 1024;
        /** Largest serialized {@code metadata} object in bytes. */
        private int maxMetadataBytes = 8 * 1024;
        /** Most URLs in {@code fetch}. */
        private int maxFetchUrls = 32;
        /** Largest request body accepted by the REST API, in bytes (413 above it). */
        private int maxBodyBytes = 256 * 1024;

        public int getMaxContentBytes() { return maxContentBytes; }
        public void setMaxContentBytes(int v) { this.maxContentBytes = v; }
        public int getMaxMetadataBytes() { return maxMetadataBytes; }
        public void setMaxMetadataBytes(int v) { this.maxMetadataBytes = v; }
        public int getMaxFetchUrls() { return maxFetchUrls; }
        public void setMaxFetchUrls(int v) { this.maxFetchUrls = v; }
        public int getMaxBodyBytes() { return maxBodyBytes; }
        public void setMaxBodyBytes(int v) { this.maxBodyBytes = v; }
    }

    /** The background write path: persist queue → group-commit batches → JDBC. */
    public static class Persistence {
        /** Most rows in one JDBC batch. */
        private int batchSize = 100;
        /** How long handle-message waits for its wireTap to reach the durable persist queue. */
        private Duration handoffTimeout = Duration.ofSeconds(10);
        /** Hand-off batches published at the same time; a thread's results always use the same lane. */
        private int handoffLanes = 8;
        /** Most results in one persist-queue message. */
        private int handoffBatchSize = 100;
        /** First delay between attempts while the database is unreachable. */
        private Duration retryInitialDelay = Duration.ofMillis(500);
        /** Longest delay between attempts while the database is unreachable (retries never stop). */
        private Duration retryMaxDelay = Duration.ofSeconds(30);

        public int getBatchSize() { return batchSize; }
        public void setBatchSize(int v) { this.batchSize = v; }
        public Duration getHandoffTimeout() { return handoffTimeout; }
        public void setHandoffTimeout(Duration v) { this.handoffTimeout = v; }
        public int getHandoffLanes() { return handoffLanes; }
        public void setHandoffLanes(int v) { this.handoffLanes = v; }
        public int getHandoffBatchSize() { return handoffBatchSize; }
        public void setHandoffBatchSize(int v) { this.handoffBatchSize = v; }
        public Duration getRetryInitialDelay() { return retryInitialDelay; }
        public void setRetryInitialDelay(Duration v) { this.retryInitialDelay = v; }
        public Duration getRetryMaxDelay() { return retryMaxDelay; }
        public void setRetryMaxDelay(Duration v) { this.retryMaxDelay = v; }
    }

    /** Redis key layout; connection settings are Spring Boot's {@code spring.data.redis.*}. */
    public static class Redis {
        /** Prefix of every key this application writes. */
        private String keyPrefix = "ar:";
        /** Start an embedded redis-server (default profile only). */
        private boolean embedded = false;
        /** Most turns kept per thread history ({@code <prefix>history:<threadId>}); older ones are trimmed. */
        private int historyMaxTurns = 50;
        /** A thread history expires this long after its last append. */
        private Duration historyTtl = Duration.ofDays(7);

        public String getKeyPrefix() { return keyPrefix; }
        public void setKeyPrefix(String v) { this.keyPrefix = v; }
        public boolean isEmbedded() { return embedded; }
        public void setEmbedded(boolean v) { this.embedded = v; }
        public int getHistoryMaxTurns() { return historyMaxTurns; }
        public void setHistoryMaxTurns(int v) { this.historyMaxTurns = v; }
        public Duration getHistoryTtl() { return historyTtl; }
        public void setHistoryTtl(Duration v) { this.historyTtl = v; }
    }

    /** Route {@code cleanup-expired}: a Quartz cron job. */
    public static class Cleanup {
        /** Quartz cron expression of the cleanup tick (seconds first). */
        private String cron = "0 * * * * ?";
        /** Quartz JDBC job store on the application database: exactly one instance runs each tick. */
        private boolean clustered = false;
        /** Clustered only: how often an instance checks in; a stopped instance's claimed tick is recovered after about this. */
        private Duration clusterCheckinInterval = Duration.ofMillis(7500);

        public Duration getClusterCheckinInterval() { return clusterCheckinInterval; }
        public void setClusterCheckinInterval(Duration v) { this.clusterCheckinInterval = v; }
        public String getCron() { return cron; }
        public void setCron(String v) { this.cron = v; }
        public boolean isClustered() { return clustered; }
        public void setClustered(boolean v) { this.clustered = v; }
    }

    /** Idempotent intake: a message id is processed once within this window. */
    public static class Idempotency {
        private Duration window = Duration.ofHours(24);

        public Duration getWindow() { return window; }
        public void setWindow(Duration v) { this.window = v; }
    }

    /** Queue intake: individual acknowledgement of inbound messages. */
    public static class Intake {
        /**
         * A message whose handling failed for a transient reason (a dependency down) goes back to the
         * broker after this delay, doubling per consecutive failure up to {@code redeliveryMaxDelay}.
         */
        private Duration redeliveryDelay = Duration.ofMillis(500);
        private Duration redeliveryMaxDelay = Duration.ofSeconds(30);
        public Duration getRedeliveryDelay() { return redeliveryDelay; }
        public void setRedeliveryDelay(Duration v) { this.redeliveryDelay = v; }
        public Duration getRedeliveryMaxDelay() { return redeliveryMaxDelay; }
        public void setRedeliveryMaxDelay(Duration v) { this.redeliveryMaxDelay = v; }
    }

    /**
     * Balanced ownership of the inbound partition queues among the instances ({@code services}:
     * RabbitMQ). Each instance registers in Redis and consumes only the partitions whose lease it
     * holds ({@code cluster/PartitionOwnership}).
     */
    public static class Partitions {
        /** Consume each inbound partition queue on its own route, on the instance that holds its lease (true in {@code services}). */
        private boolean enabled = false;
        /** This instance's name in the membership and the leases ({@code [A-Za-z0-9._:-]{1,128}}); empty: {@code <host>-<pid>-<random>}. */
        private String instanceId = "";
        /** How often an instance renews its membership and leases and revises what it owns. */
        private Duration heartbeatInterval = Duration.ofSeconds(1);
        /** A member or lease not renewed for this long is gone: a killed instance's partitions move after about this. */
        private Duration leaseTtl = Duration.ofSeconds(5);
        /** Longest wait, when giving a partition up, for its messages in flight to complete before its consumer stops anyway. */
        private Duration drainTimeout = Duration.ofSeconds(60);

        public boolean isEnabled() { return enabled; }
        public void setEnabled(boolean v) { this.enabled = v; }
        public String getInstanceId() { return instanceId; }
        public void setInstanceId(String v) { this.instanceId = v; }
        public Duration getHeartbeatInterval() { return heartbeatInterval; }
        public void setHeartbeatInterval(Duration v) { this.heartbeatInterval = v; }
        public Duration getLeaseTtl() { return leaseTtl; }
        public void setLeaseTtl(Duration v) { this.leaseTtl = v; }
        public Duration getDrainTimeout() { return drainTimeout; }
        public void setDrainTimeout(Duration v) { this.drainTimeout = v; }
    }

    /** Per-thread ordering ({@code order-by-thread}, README "Ordering"). */
    public static class Ordering {
        /** How long an early message waits for its missing predecessors before the gap is skipped. */
        private Duration gapTimeout = Duration.ofSeconds(2);
        /** Most threads handled at the same time (one message each). */
        private int maxConcurrency = 256;
        /** Most messages of one thread waiting for their turn; above it the caller blocks. */
        private int maxPendingPerThread = 1000;
        /** Most messages waiting or in flight in the gate, all threads together; above it the caller blocks. */
        private int maxPending = 20_000;
        /** TTL of the last handled seq per thread in Redis ({@code <prefix>seq:<threadId>}), refreshed on write. */
        private Duration stateTtl = Duration.ofDays(7);

        public Duration getGapTimeout() { return gapTimeout; }
        public void setGapTimeout(Duration v) { this.gapTimeout = v; }
        public int getMaxConcurrency() { return maxConcurrency; }
        public void setMaxConcurrency(int v) { this.maxConcurrency = v; }
        public int getMaxPendingPerThread() { return maxPendingPerThread; }
        public void setMaxPendingPerThread(int v) { this.maxPendingPerThread = v; }
        public int getMaxPending() { return maxPending; }
        public void setMaxPending(int v) { this.maxPending = v; }
        public Duration getStateTtl() { return stateTtl; }
        public void setStateTtl(Duration v) { this.stateTtl = v; }
    }

    /** REST API protection. */
    public static class Security {
        /** Required value of the X-API-Key header on /api/**; empty disables the check (embedded default only). */
        private String apiKey = "";
        /** Refuse to start without an API key (true outside the embedded default). */
        private boolean requireApiKey = false;

        public String getApiKey() { return apiKey; }
        public void setApiKey(String v) { this.apiKey = v; }
        public boolean isRequireApiKey() { return requireApiKey; }
        public void setRequireApiKey(boolean v) { this.requireApiKey = v; }
    }

    /** The parallel fetch of context URLs (fetch-all / fetch-one). */
    public static class Fetch {
        /** Most requests in flight at once, over all messages; the HTTP connection pool is sized to match. */
        private int maxConcurrency = 256;
        /** Per attempt: time to open the connection. */
        private Duration connectTimeout = Duration.ofSeconds(5);
        /** Per attempt: time to wait for the response. */
        private Duration responseTimeout = Duration.ofSeconds(10);
        /** Overall: items not done by then report "deadline exceeded" and the fetch returns. */
        private Duration deadline = Duration.ofSeconds(30);
        /** Largest response body accepted. */
        private int maxResponseBytes = 1024 * 1024;
        /** Allow loopback, private, link-local and metadata addresses (SSRF guard off). */
        private boolean allowPrivate = false;
        /** Host names (or literal addresses) allowed even when they resolve to private addresses. */
        private java.util.List<String> allowedHosts = new java.util.ArrayList<>();

        public int getMaxConcurrency() { return maxConcurrency; }
        public void setMaxConcurrency(int v) { this.maxConcurrency = v; }
        public Duration getConnectTimeout() { return connectTimeout; }
        public void setConnectTimeout(Duration v) { this.connectTimeout = v; }
        public Duration getResponseTimeout() { return responseTimeout; }
        public void setResponseTimeout(Duration v) { this.responseTimeout = v; }
        public Duration getDeadline() { return deadline; }
        public void setDeadline(Duration v) { this.deadline = v; }
        public int getMaxResponseBytes() { return maxResponseBytes; }
        public void setMaxResponseBytes(int v) { this.maxResponseBytes = v; }
        public boolean isAllowPrivate() { return allowPrivate; }
        public void setAllowPrivate(boolean v) { this.allowPrivate = v; }
        public java.util.List<String> getAllowedHosts() { return allowedHosts; }
        public void setAllowedHosts(java.util.List<String> v) { this.allowedHosts = v; }
    }

    /** Retries of transient failures (connection errors, timeouts, 5xx, 408, 429) with exponential backoff. */
    public static class Retry {
        /** Attempts in all, the first one included. */
        private int maxAttempts = 3;
        private Duration initialDelay = Duration.ofSeconds(1);
        private double multiplier = 2.0;
        /** Cap on one delay, also on a Retry-After the server asks for. */
        private Duration maxDelay = Duration.ofSeconds(30);
        /** Each delay is varied by up to this fraction either way. */
        private double jitter = 0.15;

        public int getMaxAttempts() { return maxAttempts; }
        public void setMaxAttempts(int v) { this.maxAttempts = v; }
        public Duration getInitialDelay() { return initialDelay; }
        public void setInitialDelay(Duration v) { this.initialDelay = v; }
        public double getMultiplier() { return multiplier; }
        public void setMultiplier(double v) { this.multiplier = v; }
        public Duration getMaxDelay() { return maxDelay; }
        public void setMaxDelay(Duration v) { this.maxDelay = v; }
        public double getJitter() { return jitter; }
        public void setJitter(double v) { this.jitter = v; }
    }

    /** The OpenAI-compatible chat endpoint (OpenAI, Ollama, vLLM, llama.cpp server, ...). */
    public static class Llm {
        /** Base URL of the OpenAI-compatible API, e.g. https://api.openai.com/v1; empty = no LLM. */
        private String baseUrl = "";
        /** API key (environment APP_LLM_API_KEY); some local servers need none. */
        private String apiKey = "";
        private String model = "gpt-4o-mini";
        /** Connect and read timeout of the client: the wait for the first chunk, and between chunks. */
        private Duration timeout = Duration.ofSeconds(60);
        /** System prompt of pipeline replies. */
        private String systemPrompt = "You are a helpful assistant. Use the context documents when they are relevant.";
        /** Earlier turns of the thread sent with a pipeline reply. */
        private int historyTurns = 20;
        /** Optional Camel endpoint URI receiving each chunk of a pipeline reply as it arrives. */
        private String chunkEndpoint = "";

        public boolean isConfigured() { return baseUrl != null && !baseUrl.isBlank(); }
        public String getBaseUrl() { return baseUrl; }
        public void setBaseUrl(String v) { this.baseUrl = v; }
        public String getApiKey() { return apiKey; }
        public void setApiKey(String v) { this.apiKey = v; }
        public String getModel() { return model; }
        public void setModel(String v) { this.model = v; }
        public Duration getTimeout() { return timeout; }
        public void setTimeout(Duration v) { this.timeout = v; }
        public String getSystemPrompt() { return systemPrompt; }
        public void setSystemPrompt(String v) { this.systemPrompt = v; }
        public int getHistoryTurns() { return historyTurns; }
        public void setHistoryTurns(int v) { this.historyTurns = v; }
        public String getChunkEndpoint() { return chunkEndpoint; }
        public void setChunkEndpoint(String v) { this.chunkEndpoint = v; }
    }
}
