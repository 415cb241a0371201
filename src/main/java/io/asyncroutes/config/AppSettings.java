package io.asyncroutes.config;

import java.time.Duration;

/**
 * Typed application settings ({@code app.*}). A plain POJO on purpose: Spring Boot binds it
 * (see {@link AsyncRoutesConfiguration}), while plain camel-main or Karaf can build it by hand.
 * Every default here is the documented default in the README's configuration table.
 */
public class AppSettings {

    private final Limits limits = new Limits();
    private final Persistence persistence = new Persistence();
    private final Redis redis = new Redis();
    private final Security security = new Security();
    private final Idempotency idempotency = new Idempotency();
    private final Ordering ordering = new Ordering();

    public Limits getLimits() { return limits; }
    public Persistence getPersistence() { return persistence; }
    public Redis getRedis() { return redis; }
    public Security getSecurity() { return security; }
    public Idempotency getIdempotency() { return idempotency; }
    public Ordering getOrdering() { return ordering; }

    /** Input limits of the message contract (SPEC §3). */
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
        /** First delay between attempts while the database is unreachable. */
        private Duration retryInitialDelay = Duration.ofMillis(500);
        /** Longest delay between attempts while the database is unreachable (retries never stop). */
        private Duration retryMaxDelay = Duration.ofSeconds(30);

        public int getBatchSize() { return batchSize; }
        public void setBatchSize(int v) { this.batchSize = v; }
        public Duration getHandoffTimeout() { return handoffTimeout; }
        public void setHandoffTimeout(Duration v) { this.handoffTimeout = v; }
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

        public String getKeyPrefix() { return keyPrefix; }
        public void setKeyPrefix(String v) { this.keyPrefix = v; }
        public boolean isEmbedded() { return embedded; }
        public void setEmbedded(boolean v) { this.embedded = v; }
    }

    /** Idempotent intake: a message id is processed once within this window. */
    public static class Idempotency {
        private Duration window = Duration.ofHours(24);

        public Duration getWindow() { return window; }
        public void setWindow(Duration v) { this.window = v; }
    }

    /** Per-thread ordering ({@code order-by-thread}, SPEC §4 "Ordering"). */
    public static class Ordering {
        /** How long an early message waits for its missing predecessors before the gap is skipped. */
        private Duration gapTimeout = Duration.ofSeconds(2);
        /** Most threads handled at the same time (one message each). */
        private int maxConcurrency = 256;
        /** Most messages of one thread waiting for their turn; above it the caller blocks. */
        private int maxPendingPerThread = 1000;
        /** Most messages waiting or in flight in the gate, all threads together; above it the caller blocks. */
        private int maxPending = 10_000;
        /** JMS only: an early message whose predecessors are not here goes back on the queue for this long. */
        private Duration deferDelay = Duration.ofMillis(100);
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
        public Duration getDeferDelay() { return deferDelay; }
        public void setDeferDelay(Duration v) { this.deferDelay = v; }
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
}
