package io.asyncroutes.config;

import io.asyncroutes.intake.KafkaCommitWindow;
import io.asyncroutes.kafka.KafkaBridgeRoutes;
import io.asyncroutes.kafka.WindowSubscribeAdapter;
import io.asyncroutes.settings.AppSettings;
import io.asyncroutes.settings.KafkaSettings;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import org.apache.camel.component.kafka.KafkaConstants;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.errors.TopicExistsException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.InitializingBean;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * The {@code kafka} profile's wiring ({@code app.kafka.enabled}) over the typed, validated
 * {@link KafkaSettings} ({@link SettingsConfiguration}): one commit window
 * per consumed topic, the rebalance hook, the bridge routes, and the topics created at start.
 */
@Configuration(proxyBeanMethods = false)
@ConditionalOnProperty(name = "app.kafka.enabled", havingValue = "true")
public class KafkaConfiguration {

    private static final Logger LOG = LoggerFactory.getLogger(KafkaConfiguration.class);

    @Bean
    public KafkaCommitWindow kafkaInboundWindow(KafkaSettings settings) {
        return new KafkaCommitWindow(settings.getMaxInFlightPerPartition());
    }

    @Bean
    public KafkaCommitWindow kafkaPersistWindow(KafkaSettings settings) {
        return new KafkaCommitWindow(settings.getMaxInFlightPerPartition());
    }

    /** Found by camel-kafka under this name: follows rebalances for the windows. */
    @Bean(KafkaConstants.KAFKA_SUBSCRIBE_ADAPTER)
    public WindowSubscribeAdapter kafkaSubscribeAdapter(KafkaSettings settings, KafkaCommitWindow kafkaInboundWindow,
                                                        KafkaCommitWindow kafkaPersistWindow) {
        return new WindowSubscribeAdapter(Map.of(settings.getInboundTopic(), kafkaInboundWindow,
                settings.getPersistTopic(), kafkaPersistWindow), settings.getRevokeDrainTimeout());
    }

    @Bean
    public KafkaBridgeRoutes kafkaBridgeRoutes(KafkaSettings settings, KafkaCommitWindow kafkaInboundWindow,
                                               KafkaCommitWindow kafkaPersistWindow,
                                               ObjectProvider<MeterRegistry> meters) {
        meters.ifAvailable(registry -> {
            Gauge.builder("ar.kafka.in.flight", kafkaInboundWindow, KafkaCommitWindow::inFlight)
                    .tag("topic", settings.getInboundTopic())
                    .description("records handed to the pipeline and not completed: the offsets not yet committable")
                    .register(registry);
            Gauge.builder("ar.kafka.in.flight", kafkaPersistWindow, KafkaCommitWindow::inFlight)
                    .tag("topic", settings.getPersistTopic())
                    .description("records handed to the pipeline and not completed: the offsets not yet committable")
                    .register(registry);
        });
        return new KafkaBridgeRoutes(settings, kafkaInboundWindow, kafkaPersistWindow);
    }

    /**
     * Creates the topics that do not exist yet (before Camel's consumers subscribe), and warns when
     * one has fewer partitions than configured. Never changes an existing topic: adding partitions
     * moves thread ids to other partitions, which is only safe with the topic drained.
     */
    @Bean
    public InitializingBean kafkaTopics(KafkaSettings settings, AppSettings app) {
        return () -> {
            if (!settings.isCreateTopics()) {
                return;
            }
            Properties props = new Properties();
            props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, settings.getBrokers());
            props.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 10_000);
            props.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 15_000);
            long resultsTtl = app.getResults().getTtlMillis();
            List<NewTopic> topics = new ArrayList<>(List.of(
                    new NewTopic(settings.getInboundTopic(), settings.getInboundPartitions(), settings.getReplicationFactor()),
                    new NewTopic(settings.getPersistTopic(), settings.getPersistPartitions(), settings.getReplicationFactor()),
                    new NewTopic(settings.getResultsTopic(), settings.getResultsPartitions(), settings.getReplicationFactor())
                            // an unread results topic never fills the broker's disk
                            .configs(Map.of(TopicConfig.RETENTION_MS_CONFIG, Long.toString(resultsTtl))),
                    new NewTopic(settings.getDeadLetterTopic(), 1, settings.getReplicationFactor())));
            try (Admin admin = Admin.create(props)) {
                // one request for all: an unreachable broker costs one timeout, not one per topic
                Map<String, org.apache.kafka.common.KafkaFuture<Void>> created = admin.createTopics(topics).values();
                for (NewTopic topic : topics) {
                    try {
                        created.get(topic.name()).get();
                        LOG.info("Created topic {} ({} partitions)", topic.name(), topic.numPartitions());
                    } catch (ExecutionException e) {
                        if (!(e.getCause() instanceof TopicExistsException)) {
                            throw e;
                        }
                    }
                }
                warnIfFewerPartitions(admin, topics.subList(0, 2));
            } catch (ExecutionException e) {
                // as with RabbitMQ: an unreachable broker is not refused at start; the consumers reconnect
                LOG.warn("Could not check the Kafka topics at {}: {}", settings.getBrokers(), e.getCause().toString());
            }
        };
    }

    private static void warnIfFewerPartitions(Admin admin, List<NewTopic> topics) throws InterruptedException {
        for (NewTopic topic : topics) {
            try {
                TopicDescription found = admin.describeTopics(Set.of(topic.name())).allTopicNames().get().get(topic.name());
                int partitions = found.partitions().size();
                if (partitions < topic.numPartitions()) {
                    LOG.warn("Topic {} has {} partitions, {} configured: at most {} instances share it",
                            topic.name(), partitions, topic.numPartitions(), partitions);
                }
            } catch (ExecutionException e) {
                // just created: its metadata is still on its way to the broker answering
                LOG.debug("Could not describe topic {}: {}", topic.name(), e.getCause().toString());
            }
        }
    }
}
