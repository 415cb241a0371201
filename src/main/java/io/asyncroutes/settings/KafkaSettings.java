package io.asyncroutes.settings;

import jakarta.validation.constraints.NotBlank;
import jakarta.validation.constraints.NotNull;
import jakarta.validation.constraints.Positive;
import java.time.Duration;
import org.hibernate.validator.constraints.time.DurationMin;

/**
 * {@code app.kafka.*}: the {@code kafka} profile (config/application-kafka.yaml). Defaults here are
 * the documented ones; the consumer and producer options that are Kafka's own are set on Camel's
 * {@code camel.component.kafka.*} in the profile file. Kept apart from {@link AppSettings}: bound and
 * validated (the same way, {@code config/KafkaConfiguration}) only when the profile is on. The
 * endpoint URIs under {@code app.kafka} ({@code inbound-consumer}, ...) are Camel placeholders only,
 * described in {@code META-INF/additional-spring-configuration-metadata.json}.
 */
public class KafkaSettings {

    /** On in the {@code kafka} profile: the Kafka topics, bridge routes and commit windows. */
    private boolean enabled = false;
    /** Bootstrap servers, host:port[,host:port]. */
    @NotBlank
    private String brokers = "127.0.0.1:9092";
    /** Consumer group of every instance: the group spreads the partitions over the live instances. */
    @NotBlank
    private String groupId = "async-routes";
    /** Inbound topic, keyed by thread id (one thread: one partition: one instance at a time). */
    @NotBlank
    private String inboundTopic = "ar.in";
    /**
     * Partitions of the inbound topic when the application creates it: the most instances that can
     * share the intake. Raising it later moves thread ids to other partitions: only with the topic drained.
     */
    @Positive
    private int inboundPartitions = 16;
    /** Persist topic: result batches keyed by hand-off lane, consumed into the database. */
    @NotBlank
    private String persistTopic = "ar.persist";
    /** Partitions of the persist topic when the application creates it. */
    @Positive
    private int persistPartitions = 16;
    /** Results topic, keyed by thread id; its records are kept {@code app.results.ttl-millis}. */
    @NotBlank
    private String resultsTopic = "ar.results";
    /** Partitions of the results topic when the application creates it. */
    @Positive
    private int resultsPartitions = 16;
    /** Dead-letter topic: what can never be handled, with the reason in header {@code arDeadLetterReason}. */
    @NotBlank
    private String deadLetterTopic = "ar.dead-letter";
    /** Replication factor of the topics the application creates. */
    @Positive
    private short replicationFactor = 1;
    /** Create the topics at start when they do not exist (else an operator does). */
    private boolean createTopics = true;
    /**
     * Records of one partition handed to the pipeline and not completed before the partition is
     * paused (it resumes at half): bounds memory, like RabbitMQ's prefetch.
     */
    @Positive
    private int maxInFlightPerPartition = 1000;
    /**
     * On a rebalance, how long a revoked partition's records in flight may take to complete before
     * its offset is committed and the partition let go; what is unfinished then is read again by the
     * new owner (and recognised as a copy if it completes here too).
     */
    @NotNull
    @DurationMin(millis = 0)
    private Duration revokeDrainTimeout = Duration.ofSeconds(5);

    public boolean isEnabled() { return enabled; }
    public void setEnabled(boolean v) { this.enabled = v; }
    public String getBrokers() { return brokers; }
    public void setBrokers(String v) { this.brokers = v; }
    public String getGroupId() { return groupId; }
    public void setGroupId(String v) { this.groupId = v; }
    public String getInboundTopic() { return inboundTopic; }
    public void setInboundTopic(String v) { this.inboundTopic = v; }
    public int getInboundPartitions() { return inboundPartitions; }
    public void setInboundPartitions(int v) { this.inboundPartitions = v; }
    public String getPersistTopic() { return persistTopic; }
    public void setPersistTopic(String v) { this.persistTopic = v; }
    public int getPersistPartitions() { return persistPartitions; }
    public void setPersistPartitions(int v) { this.persistPartitions = v; }
    public String getResultsTopic() { return resultsTopic; }
    public void setResultsTopic(String v) { this.resultsTopic = v; }
    public int getResultsPartitions() { return resultsPartitions; }
    public void setResultsPartitions(int v) { this.resultsPartitions = v; }
    public String getDeadLetterTopic() { return deadLetterTopic; }
    public void setDeadLetterTopic(String v) { this.deadLetterTopic = v; }
    public short getReplicationFactor() { return replicationFactor; }
    public void setReplicationFactor(short v) { this.replicationFactor = v; }
    public boolean isCreateTopics() { return createTopics; }
    public void setCreateTopics(boolean v) { this.createTopics = v; }
    public int getMaxInFlightPerPartition() { return maxInFlightPerPartition; }
    public void setMaxInFlightPerPartition(int v) { this.maxInFlightPerPartition = v; }
    public Duration getRevokeDrainTimeout() { return revokeDrainTimeout; }
    public void setRevokeDrainTimeout(Duration v) { this.revokeDrainTimeout = v; }
}
