package io.asyncroutes.kafka;

import io.asyncroutes.intake.KafkaCommitWindow;
import java.time.Duration;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.camel.component.kafka.consumer.support.subcription.DefaultSubscribeAdapter;
import org.apache.camel.component.kafka.consumer.support.subcription.SubscribeAdapter;
import org.apache.camel.component.kafka.consumer.support.subcription.TopicInfo;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * camel-kafka's subscription hook (registry name {@code subscribeAdapter}), used to follow
 * rebalances: a revoked partition gets {@code revokeDrainTimeout} for its records in flight to
 * complete, then what is safe is committed (synchronously, still on the polling thread, before the
 * partition changes hands) and the partition forgotten; a newly assigned one starts clean.
 * Partitions of topics without a window pass through untouched.
 */
public class WindowSubscribeAdapter implements SubscribeAdapter {

    private static final Logger LOG = LoggerFactory.getLogger(WindowSubscribeAdapter.class);

    private final Map<String, KafkaCommitWindow> windows;
    private final Duration drain;
    private final SubscribeAdapter subscription = new DefaultSubscribeAdapter();

    public WindowSubscribeAdapter(Map<String, KafkaCommitWindow> windowsByTopic, Duration drain) {
        this.windows = Map.copyOf(windowsByTopic);
        this.drain = drain;
    }

    @Override
    public void subscribe(Consumer<?, ?> consumer, ConsumerRebalanceListener camelListener, TopicInfo topicInfo) {
        subscription.subscribe(consumer, new ConsumerRebalanceListener() {
            @Override
            public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
                settle(consumer, partitions);
                camelListener.onPartitionsRevoked(partitions);
            }

            @Override
            public void onPartitionsLost(Collection<TopicPartition> partitions) {
                byWindow(partitions).forEach(KafkaCommitWindow::lost);
                camelListener.onPartitionsLost(partitions);
            }

            @Override
            public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
                byWindow(partitions).forEach(KafkaCommitWindow::assigned);
                if (!partitions.isEmpty()) {
                    LOG.info("Assigned {}", partitions);
                }
                camelListener.onPartitionsAssigned(partitions);
            }
        }, topicInfo);
    }

    private void settle(Consumer<?, ?> consumer, Collection<TopicPartition> partitions) {
        if (partitions.isEmpty()) {
            return;
        }
        LOG.info("Revoked {}: committing what has completed", partitions);
        Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
        byWindow(partitions).forEach((window, owned) -> {
            try {
                window.revoke(owned, drain).forEach((p, offset) ->
                        offsets.put(new TopicPartition(p.topic(), p.partition()), new OffsetAndMetadata(offset)));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        if (!offsets.isEmpty()) {
            try {
                consumer.commitSync(offsets);
            } catch (RuntimeException e) {
                // the new owner starts from the last commit that went through: more copies, nothing lost
                LOG.warn("Could not commit {} on revocation: {}", offsets, e.toString());
            }
        }
    }

    private Map<KafkaCommitWindow, List<KafkaCommitWindow.Partition>> byWindow(Collection<TopicPartition> partitions) {
        Map<KafkaCommitWindow, List<KafkaCommitWindow.Partition>> grouped = new HashMap<>();
        for (TopicPartition tp : partitions) {
            KafkaCommitWindow window = windows.get(tp.topic());
            if (window != null) {
                grouped.computeIfAbsent(window, w -> new java.util.ArrayList<>())
                        .add(new KafkaCommitWindow.Partition(tp.topic(), tp.partition()));
            }
        }
        return grouped;
    }
}
