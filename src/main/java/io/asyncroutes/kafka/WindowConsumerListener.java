package io.asyncroutes.kafka;

import io.asyncroutes.intake.KafkaCommitWindow;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.camel.component.kafka.consumer.errorhandler.KafkaConsumerListener;
import org.apache.camel.component.kafka.consumer.support.ProcessingResult;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs on camel-kafka's polling thread after every poll (installed with the route's
 * {@code pausable(...)}: the one hook camel-kafka gives that thread, which alone may touch the Kafka
 * consumer). Commits what the {@link KafkaCommitWindow} says is safe, asynchronously, and pauses a
 * partition whose window is full, resuming it once half has drained. It never pauses the consumer
 * on an error as its parent would: a failed record is retried by the pipeline, holding the floor.
 */
public class WindowConsumerListener extends KafkaConsumerListener {

    private static final Logger LOG = LoggerFactory.getLogger(WindowConsumerListener.class);

    private final KafkaCommitWindow window;

    public WindowConsumerListener(KafkaCommitWindow window) {
        this.window = window;
    }

    @Override
    public boolean afterConsume(Object polling) {
        Consumer<?, ?> consumer = (Consumer<?, ?>) polling;
        Set<TopicPartition> assignment = consumer.assignment();
        commit(consumer, assignment);
        List<TopicPartition> pause = new ArrayList<>();
        List<TopicPartition> resume = new ArrayList<>();
        Set<TopicPartition> paused = consumer.paused();
        for (TopicPartition tp : assignment) {
            KafkaCommitWindow.Partition p = new KafkaCommitWindow.Partition(tp.topic(), tp.partition());
            if (!paused.contains(tp) && window.isFull(p)) {
                pause.add(tp);
            } else if (paused.contains(tp) && window.hasRoom(p)) {
                resume.add(tp);
            }
        }
        if (!pause.isEmpty()) {
            LOG.debug("Pausing {}: their windows are full", pause);
            consumer.pause(pause);
        }
        if (!resume.isEmpty()) {
            LOG.debug("Resuming {}", resume);
            consumer.resume(resume);
        }
        return true; // the records of this poll are always processed
    }

    private void commit(Consumer<?, ?> consumer, Set<TopicPartition> assignment) {
        Map<KafkaCommitWindow.Partition, Long> commits = window.takeCommits(
                p -> assignment.contains(new TopicPartition(p.topic(), p.partition())));
        if (commits.isEmpty()) {
            return;
        }
        Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
        commits.forEach((p, offset) -> offsets.put(new TopicPartition(p.topic(), p.partition()), new OffsetAndMetadata(offset)));
        consumer.commitAsync(offsets, (done, error) -> {
            if (error != null) {
                // handed out again with the next poll; meanwhile a crash redelivers a little more
                LOG.debug("Offset commit failed: {}", error.toString());
                commits.forEach(window::commitFailed);
            }
        });
    }

    @Override
    public boolean afterProcess(ProcessingResult result) {
        return true;
    }
}
