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
    private final Cleanup cleanup = new Cleanup();
    /** Database rows received longer ago than this are deleted by {@code cleanup-expired}. */
    private Duration retention = Duration.ofDays(7);

    public Limits getLimits() { return limits; }
    public Persistence getPersistence() { return persistence; }
    public Redis getRedis() { return redis; }
    public Security getSecurity() { return security; }
    public Idempotency getIdempotency() { return idempotency; }
    public Cleanup getCleanup() { return cleanup; }
    public Duration getRetention() { return retention; }
    public void setRetention(Duration v) { this.retention = v; }

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
