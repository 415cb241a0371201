package io.asyncroutes.settings;

import jakarta.validation.Valid;
import jakarta.validation.constraints.AssertTrue;
import jakarta.validation.constraints.DecimalMax;
import jakarta.validation.constraints.DecimalMin;
import jakarta.validation.constraints.Max;
import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotBlank;
import jakarta.validation.constraints.NotNull;
import jakarta.validation.constraints.Pattern;
import jakarta.validation.constraints.Positive;
import jakarta.validation.constraints.PositiveOrZero;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.hibernate.validator.constraints.time.DurationMin;

/**
 * Typed application settings: the whole {@code app.*} tree except {@code app.kafka.*}
 * ({@link KafkaSettings}, bound only in the {@code kafka} profile). A plain POJO on purpose: Spring
 * Boot binds and validates it at start (see {@code config/SettingsConfiguration}), while plain
 * camel-main or Karaf can build it by hand. The constraints are Jakarta Bean Validation annotations
 * only, no Spring: where no validator runs (Karaf) they are inert. Every default here is the
 * documented default in the README's configuration table; the field Javadoc is the description
 * in the generated configuration metadata.
 */
public class AppSettings {

    /** Embedded default: where the Artemis journal, the H2 file and the Redis append-only file live. */
    @NotBlank
    private String dataDir = "data";
    @Valid
    private final Jms jms = new Jms();
    @Valid
    private final Rabbitmq rabbitmq = new Rabbitmq();
    @Valid
    private final Results results = new Results();
    @Valid
    private final Endpoints endpoints = new Endpoints();

    @Valid
    private final Limits limits = new Limits();
    @Valid
    private final Persistence persistence = new Persistence();
    @Valid
    private final Intake intake = new Intake();
    @Valid
    private final Redis redis = new Redis();
    @Valid
    private final Security security = new Security();
    @Valid
    private final Idempotency idempotency = new Idempotency();
    @Valid
    private final Fetch fetch = new Fetch();
    @Valid
    private final Retry retry = new Retry();
    @Valid
    private final Llm llm = new Llm();
    @Valid
    private final Cleanup cleanup = new Cleanup();
    /** Database rows received longer ago than this are deleted by {@code cleanup-expired}. */
    @NotNull
    @DurationMin(millis = 1)
    private Duration retention = Duration.ofDays(7);
    @Valid
    private final Ordering ordering = new Ordering();
    @Valid
    private final Partitions partitions = new Partitions();

    public String getDataDir() { return dataDir; }
    public void setDataDir(String v) { this.dataDir = v; }
    public Jms getJms() { return jms; }
    public Rabbitmq getRabbitmq() { return rabbitmq; }
    public Results getResults() { return results; }
    public Endpoints getEndpoints() { return endpoints; }
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
        @Positive
        private int maxContentBytes = 65_536; // literals, not 64 * 1024: the metadata shows them as defaults
        /** Largest serialized {@code metadata} object in bytes. */
        @Positive
        private int maxMetadataBytes = 8_192;
        /** Most URLs in {@code fetch}. */
        @Positive
        private int maxFetchUrls = 32;
        /** Largest request body accepted by the REST API, in bytes (413 above it). */
        @Positive
        private int maxBodyBytes = 262_144;

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
        @Positive
        private int batchSize = 100;
        /** How long handle-message waits for its wireTap to reach the durable persist queue. */
        @NotNull
        @DurationMin(millis = 1)
        private Duration handoffTimeout = Duration.ofSeconds(10);
        /**
         * Hand-off batches published at the same time; a thread's results always use the same lane. Fewer
         * lanes make fuller persist-queue messages; the services and kafka profiles run 8, one persist
         * partition per lane.
         */
        @Positive
        private int handoffLanes = 2;
        /** Most results in one persist-queue message. */
        @Positive
        private int handoffBatchSize = 100;
        /** First delay between attempts while the database is unreachable. */
        @NotNull
        @DurationMin(millis = 1)
        private Duration retryInitialDelay = Duration.ofMillis(500);
        /** Longest delay between attempts while the database is unreachable (retries never stop). */
        @NotNull
        @DurationMin(millis = 1)
        private Duration retryMaxDelay = Duration.ofSeconds(30);
        /**
         * How often the embedded H2 file is compacted ({@code H2StoreCompaction}: with {@code WRITE_DELAY=0}
         * H2 does not do it itself); 0 turns it off. Only an H2 file database ({@code jdbc:h2:file:}) is affected.
         */
        @NotNull
        @DurationMin(millis = 0)
        private Duration h2CompactionInterval = Duration.ofSeconds(1);

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
        public Duration getH2CompactionInterval() { return h2CompactionInterval; }
        public void setH2CompactionInterval(Duration v) { this.h2CompactionInterval = v; }
    }

    /** Redis key layout; connection settings are Spring Boot's {@code spring.data.redis.*}. */
    public static class Redis {
        /** Prefix of every key this application writes. */
        @NotNull
        @Pattern(regexp = "[A-Za-z0-9._:{}-]{0,128}", message = "must match [A-Za-z0-9._:{}-]{0,128}: it starts every Redis key and key pattern")
        private String keyPrefix = "ar:";
        /** Start an embedded redis-server (default profile only). */
        private boolean embedded = false;
        /** Most turns kept per thread history ({@code <prefix>history:<threadId>}); older ones are trimmed. */
        @Positive
        private int historyMaxTurns = 50;
        /** A thread history expires this long after its last append. */
        @NotNull
        @DurationMin(millis = 1)
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
        @NotBlank
        private String cron = "0 * * * * ?";
        /** Quartz JDBC job store on the application database: exactly one instance runs each tick. */
        private boolean clustered = false;
        /** Clustered only: how often an instance checks in; a stopped instance's claimed tick is recovered after about this. */
        @NotNull
        @DurationMin(millis = 1)
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
        /** How long a handled message id is remembered (TTL of {@code <prefix>idem:<id>} in Redis). */
        @NotNull
        @DurationMin(millis = 1)
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
        @NotNull
        @DurationMin(millis = 0)
        private Duration redeliveryDelay = Duration.ofMillis(500);
        /** Longest delay before a failed message goes back to the broker. */
        @NotNull
        @DurationMin(millis = 0)
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
        @NotNull
        @Pattern(regexp = "\\s*([A-Za-z0-9._:-]{1,128})?\\s*", message = "must be empty or match [A-Za-z0-9._:-]{1,128}: it is written to Redis")
        private String instanceId = "";
        /** How often an instance renews its membership and leases and revises what it owns. */
        @NotNull
        @DurationMin(millis = 1)
        private Duration heartbeatInterval = Duration.ofSeconds(1);
        /** A member or lease not renewed for this long is gone: a killed instance's partitions move after about this. */
        @NotNull
        @DurationMin(millis = 1)
        private Duration leaseTtl = Duration.ofSeconds(5);
        /** Longest wait, when giving a partition up, for its messages in flight to complete before its consumer stops anyway. */
        @NotNull
        @DurationMin(millis = 0)
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
        @NotNull
        @DurationMin(millis = 0)
        private Duration gapTimeout = Duration.ofSeconds(2);
        /** Most threads handled at the same time (one message each). */
        @Positive
        private int maxConcurrency = 256;
        /** Most messages of one thread waiting for their turn; above it the caller blocks. */
        @Positive
        private int maxPendingPerThread = 1000;
        /** Most messages waiting or in flight in the gate, all threads together; above it the caller blocks. */
        @Positive
        private int maxPending = 20_000;
        /** TTL of the last handled seq per thread in Redis ({@code <prefix>seq:<threadId>}), refreshed on write. */
        @NotNull
        @DurationMin(millis = 1)
        private Duration stateTtl = Duration.ofDays(7);
        /**
         * Handle each message on a virtual thread (JDK 21+; ignored on JDK 17): the waits for Redis, the
         * broker's confirms and the persistence hand-off block that thread instead of hopping through
         * continuation pools. On in {@code services}; off by default, where the in-VM Artemis broker's
         * locks would be held by virtual threads queued behind each other on few carriers.
         */
        private boolean virtualThreads = false;

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
        public boolean isVirtualThreads() { return virtualThreads; }
        public void setVirtualThreads(boolean v) { this.virtualThreads = v; }
    }

    /** REST API protection. */
    public static class Security {
        /** Required value of the X-API-Key header on /api/**; empty disables the check (embedded default only). */
        @NotNull
        private String apiKey = "";
        /** Refuse to start without an API key (true outside the embedded default). */
        private boolean requireApiKey = false;

        public String getApiKey() { return apiKey; }
        public void setApiKey(String v) { this.apiKey = v; }
        public boolean isRequireApiKey() { return requireApiKey; }
        public void setRequireApiKey(boolean v) { this.requireApiKey = v; }

        /** The start-time check of {@code require-api-key}: a bean-validation property, not a setting (no setter). */
        @AssertTrue(message = "app.security.api-key (APP_SECURITY_API_KEY) must be set: /api/** requires an API key outside the embedded default")
        public boolean isApiKeyPresentWhereRequired() {
            return !requireApiKey || (apiKey != null && !apiKey.isBlank());
        }
    }

    /** The parallel fetch of context URLs (fetch-all / fetch-one). */
    public static class Fetch {
        /** Most requests in flight at once, over all messages; the HTTP connection pool is sized to match. */
        @Positive
        private int maxConcurrency = 256;
        /** Per attempt: time to open the connection. */
        @NotNull
        @DurationMin(millis = 1)
        private Duration connectTimeout = Duration.ofSeconds(5);
        /** Per attempt: time to wait for the response. */
        @NotNull
        @DurationMin(millis = 1)
        private Duration responseTimeout = Duration.ofSeconds(10);
        /** Overall: items not done by then report "deadline exceeded" and the fetch returns. */
        @NotNull
        @DurationMin(millis = 1)
        private Duration deadline = Duration.ofSeconds(30);
        /** Largest response body accepted. */
        @Positive
        private int maxResponseBytes = 1_048_576;
        /** Allow loopback, private, link-local and metadata addresses (SSRF guard off). */
        private boolean allowPrivate = false;
        /** Host names (or literal addresses) allowed even when they resolve to private addresses. */
        @NotNull
        private List<String> allowedHosts = new ArrayList<>();

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
        public List<String> getAllowedHosts() { return allowedHosts; }
        public void setAllowedHosts(List<String> v) { this.allowedHosts = v; }
    }

    /** Retries of transient failures (connection errors, timeouts, 5xx, 408, 429) with exponential backoff. */
    public static class Retry {
        /** Attempts in all, the first one included. */
        @Positive
        private int maxAttempts = 3;
        /** Delay before the second attempt. */
        @NotNull
        @DurationMin(millis = 0)
        private Duration initialDelay = Duration.ofSeconds(1);
        /** Each further delay is the previous one times this. */
        @DecimalMin("1.0")
        private double multiplier = 2.0;
        /** Cap on one delay, also on a Retry-After the server asks for. */
        @NotNull
        @DurationMin(millis = 0)
        private Duration maxDelay = Duration.ofSeconds(30);
        /** Each delay is varied by up to this fraction either way. */
        @DecimalMin("0.0")
        @DecimalMax("1.0")
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
        @NotNull
        private String baseUrl = "";
        /** API key (environment APP_LLM_API_KEY); some local servers need none. */
        @NotNull
        private String apiKey = "";
        /** Model name sent with every request (environment APP_LLM_MODEL). */
        @NotBlank
        private String model = "gpt-4o-mini";
        /** Connect and read timeout of the client: the wait for the first chunk, and between chunks. */
        @NotNull
        @DurationMin(millis = 1)
        private Duration timeout = Duration.ofSeconds(60);
        /** System prompt of pipeline replies. */
        @NotNull
        private String systemPrompt = "You are a helpful assistant. Use the context documents when they are relevant.";
        /** Earlier turns of the thread sent with a pipeline reply. */
        @PositiveOrZero
        private int historyTurns = 20;
        /** Optional Camel endpoint URI receiving each chunk of a pipeline reply as it arrives. */
        @NotNull
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
    /** {@code app.jms.enabled}: read by the condition on {@code config/JmsBrokerConfiguration}, bound here to be described and validated. */
    public static class Jms {
        /** Register the Camel {@code jms} component on the Artemis connection factory (false in {@code services} and {@code kafka}). */
        private boolean enabled = true;

        public boolean isEnabled() { return enabled; }
        public void setEnabled(boolean v) { this.enabled = v; }
    }

    /**
     * RabbitMQ topology and publisher of the {@code services} profile. Its presence
     * ({@code app.rabbitmq.inbound-queues} set) turns the RabbitMQ wiring on.
     */
    public static class Rabbitmq {
        /** Direct exchange of the results and dead-letter queues; the partition exchanges are {@code <exchange>.in} and {@code <exchange>.persist}. */
        @NotNull
        private String exchange = "";
        /** Prefix of the queue names ({@code <prefix>.results}, {@code <prefix>.dead-letter}). */
        @NotNull
        private String prefix = "";
        /** Channels of the confirmed publisher ({@code rabbit-confirmed:}); one routing key always uses the same one. */
        @Positive
        private int publisherChannels = 4;
        /**
         * The Java client's NIO mode for the application's RabbitMQ connections (consumers and publisher): one
         * I/O thread writes what many callers queued in one go instead of a socket write per publish and per
         * acknowledgement (README "Publishing to RabbitMQ"). {@code false}: the client's blocking mode.
         */
        private boolean nio = true;
        /** Longest wait for a publish's confirm; also bounds the publisher's connect and channel round trips. */
        @NotNull
        @DurationMin(millis = 1)
        private Duration confirmTimeout = Duration.ofSeconds(5);
        /** Single-active-consumer partition queues behind the partition exchange {@code <exchange>.in}; the same list on every instance. */
        @NotNull
        private List<String> inboundQueues = new ArrayList<>();
        /** The same for the persist queue (exchange {@code <exchange>.persist}, routing key = hand-off lane). */
        @NotNull
        private List<String> persistQueues = new ArrayList<>();

        /**
         * Type of the partition exchanges {@code <exchange>.in} and {@code <exchange>.persist}, which hash the
         * routing key onto the partition queues: {@code x-modulus-hash} (hash mod the number of queues, stable
         * across broker restarts; built into RabbitMQ 4.3, plugin {@code rabbitmq_sharding} before) or
         * {@code x-consistent-hash} (plugin {@code rabbitmq_consistent_hash_exchange}; a node restart may
         * rebuild its ring in another order and move thread ids to other queues).
         */
        @NotNull
        @Pattern(regexp = MODULUS_HASH + "|" + CONSISTENT_HASH, message = "must be " + MODULUS_HASH + " or " + CONSISTENT_HASH)
        private String partitionExchangeType = MODULUS_HASH;

        /**
         * Classic queue storage version ({@code x-queue-version}) of the queues this application creates: 2
         * (RabbitMQ's recommended one, the only one from 4.0: 8 % less broker CPU per message and an 8 %
         * faster drain than version 1 on the drain benchmark) or 1; 0 leaves it to the broker (its {@code classic_queue.default_version}
         * or a policy). A queue that exists from before without it keeps its version (on RabbitMQ 3.x a
         * WARN at start names it and the policy that converts it).
         */
        @Min(0)
        @Max(2)
        private int queueVersion = 2;

        /**
         * Classic queue mode ({@code x-queue-mode}) of the queues this application creates: {@code lazy}
         * writes each message to disk as it comes instead of paging long queues out in bulk, during which a
         * queue answers no one (RabbitMQ before 3.12; later versions ignore the mode and work that way anyway);
         * {@code default}; empty: no argument (the broker or a policy decides). A queue that exists from
         * before without it keeps its mode (a WARN at start names it and the policy that sets it in place).
         */
        @NotNull
        @Pattern(regexp = "lazy|default|", message = "must be lazy, default or empty")
        private String queueMode = "lazy";

        public String getQueueMode() { return queueMode; }
        public void setQueueMode(String v) { this.queueMode = v; }
        public int getQueueVersion() { return queueVersion; }
        public void setQueueVersion(int v) { this.queueVersion = v; }

        public static final String MODULUS_HASH = "x-modulus-hash";
        public static final String CONSISTENT_HASH = "x-consistent-hash";

        /** The plugin that brings the partition exchange type to a RabbitMQ 3.x broker. */
        public String partitionExchangePlugin() {
            return CONSISTENT_HASH.equals(partitionExchangeType) ? "rabbitmq_consistent_hash_exchange" : "rabbitmq_sharding";
        }

        public String getPartitionExchangeType() { return partitionExchangeType; }
        public void setPartitionExchangeType(String v) { this.partitionExchangeType = v; }
        public String getExchange() { return exchange; }
        public void setExchange(String v) { this.exchange = v; }
        public String getPrefix() { return prefix; }
        public void setPrefix(String v) { this.prefix = v; }
        public boolean isNio() { return nio; }
        public void setNio(boolean v) { this.nio = v; }
        public int getPublisherChannels() { return publisherChannels; }
        public void setPublisherChannels(int v) { this.publisherChannels = v; }
        public Duration getConfirmTimeout() { return confirmTimeout; }
        public void setConfirmTimeout(Duration v) { this.confirmTimeout = v; }
        public List<String> getInboundQueues() { return inboundQueues; }
        public void setInboundQueues(List<String> v) { this.inboundQueues = v; }
        public List<String> getPersistQueues() { return persistQueues; }
        public void setPersistQueues(List<String> v) { this.persistQueues = v; }

        /** The RabbitMQ topology needs its exchange and prefix once it has partition queues. */
        @AssertTrue(message = "app.rabbitmq.exchange and app.rabbitmq.prefix must be set when app.rabbitmq.inbound-queues is")
        public boolean isNamedWhereUsed() {
            return inboundQueues == null || inboundQueues.isEmpty()
                    || (exchange != null && !exchange.isBlank() && prefix != null && !prefix.isBlank());
        }
    }

    /** The results queue (or topic) is bounded: an unread one never fills the broker. */
    public static class Results {
        /** A result expires after this many milliseconds (Artemis time-to-live, RabbitMQ {@code x-message-ttl}, Kafka {@code retention.ms}). */
        @Positive
        @Max(Integer.MAX_VALUE)
        private long ttlMillis = 86_400_000L;
        /**
         * Most results kept on the results queue: RabbitMQ {@code x-max-length} (the oldest dropped
         * first); the embedded Artemis stops paging at this many (the newest dropped).
         */
        @Positive
        private int maxLength = 1_000_000;
        /**
         * Embedded Artemis: megabytes of the results queue held in memory; an unread backlog beyond
         * this is paged to disk on its own. Without a limit of its own it fills the broker's global
         * memory limit (half the heap), and from then on every queue pages, the pipeline's own too.
         */
        @Positive
        private int maxMemoryMb = 32;

        public long getTtlMillis() { return ttlMillis; }
        public void setTtlMillis(long v) { this.ttlMillis = v; }
        public int getMaxLength() { return maxLength; }
        public void setMaxLength(int v) { this.maxLength = v; }
        public int getMaxMemoryMb() { return maxMemoryMb; }
        public void setMaxMemoryMb(int v) { this.maxMemoryMb = v; }
    }

    /**
     * Where messages come from and go to: Camel endpoint URIs, which the routes read as
     * {@code {{app.endpoints.*}}} placeholders. Consumer URIs carry the consumer options; publish
     * URIs are what producers send to. No defaults here: each profile's YAML names its broker.
     */
    public static class Endpoints {
        /** Consumer URI of the inbound queue (asynchronous, each message acknowledged on its own when its exchange completes). */
        @NotBlank
        private String inbound = "";
        /** Producer URI of the inbound queue (REST intake). */
        @NotBlank
        private String inboundPublish = "";
        /** Consumer URI of the durable persist queue. */
        @NotBlank
        private String persist = "";
        /** Producer URI of the durable persist queue (the hand-off batches). */
        @NotBlank
        private String persistPublish = "";
        /** Producer URI of the results. */
        @NotBlank
        private String results = "";
        /** Producer URI of the dead letters (with the reason in header {@code arDeadLetterReason}). */
        @NotBlank
        private String deadLetter = "";

        public String getInbound() { return inbound; }
        public void setInbound(String v) { this.inbound = v; }
        public String getInboundPublish() { return inboundPublish; }
        public void setInboundPublish(String v) { this.inboundPublish = v; }
        public String getPersist() { return persist; }
        public void setPersist(String v) { this.persist = v; }
        public String getPersistPublish() { return persistPublish; }
        public void setPersistPublish(String v) { this.persistPublish = v; }
        public String getResults() { return results; }
        public void setResults(String v) { this.results = v; }
        public String getDeadLetter() { return deadLetter; }
        public void setDeadLetter(String v) { this.deadLetter = v; }
    }
}
