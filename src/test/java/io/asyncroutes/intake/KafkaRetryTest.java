package io.asyncroutes.intake;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.asyncroutes.message.ExchangeProperties;
import java.io.IOException;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.camel.CamelContext;
import org.apache.camel.ProducerTemplate;
import org.apache.camel.builder.RouteBuilder;
import org.apache.camel.impl.DefaultCamelContext;
import org.junit.jupiter.api.Test;

/**
 * {@link InboundAcknowledgement} with Kafka records: a record whose exchange fails (a dependency
 * down) is handed to its route again after the redelivery delay, and while it fails its offset holds
 * the partition's floor: a later record that completed is not committed past it.
 */
class KafkaRetryTest {

    @Test
    void aFailedRecordIsRetriedInPlaceAndNothingIsCommittedPastItUntilItSucceeds() throws Exception {
        KafkaCommitWindow window = new KafkaCommitWindow(100);
        InboundAcknowledgement acknowledgement = new InboundAcknowledgement(Duration.ofMillis(300), Duration.ofMillis(600));
        AtomicInteger attempts = new AtomicInteger();
        AtomicInteger laterHandled = new AtomicInteger();
        try (CamelContext camel = new DefaultCamelContext()) {
            acknowledgement.setCamelContext(camel);
            camel.addService(acknowledgement);
            camel.addRoutes(new RouteBuilder() {
                @Override
                public void configure() {
                    from("seda:handoff").routeId("kafka-retry-test")
                            .errorHandler(noErrorHandler())
                            .process(acknowledgement)
                            .process(exchange -> {
                                if ("fails twice".equals(exchange.getMessage().getBody(String.class))) {
                                    if (attempts.incrementAndGet() <= 2) {
                                        throw new IOException("Redis is down");
                                    }
                                } else {
                                    laterHandled.incrementAndGet();
                                }
                            });
                }
            });
            camel.start();
            ProducerTemplate template = camel.createProducerTemplate();
            KafkaCommitWindow.Delivery first = window.received("t", 0, 40);
            KafkaCommitWindow.Delivery second = window.received("t", 0, 41);
            template.send("seda:handoff", e -> {
                e.getMessage().setBody("fails twice");
                e.setProperty(ExchangeProperties.KAFKA_DELIVERY, first);
            });
            template.send("seda:handoff", e -> {
                e.getMessage().setBody("goes through");
                e.setProperty(ExchangeProperties.KAFKA_DELIVERY, second);
            });

            await().atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(10))
                    .until(() -> laterHandled.get() == 1 && attempts.get() >= 1);
            assertThat(window.takeCommits(p -> true)).as("41 done, 40 not: nothing committed").isEmpty();

            await().atMost(Duration.ofSeconds(10)).until(() -> attempts.get() == 3);
            await().atMost(Duration.ofSeconds(5)).until(() -> window.inFlight() == 0);
            assertThat(window.takeCommits(p -> true)).containsExactly(
                    Map.entry(new KafkaCommitWindow.Partition("t", 0), 42L));
            assertThat(laterHandled.get()).isEqualTo(1);
        }
    }

    @Test
    void kafkaTimeoutsAndDisconnectsAreTransientSoTheMessageIsRetriedNotDeadLettered() {
        assertThat(io.asyncroutes.support.TransientErrors.isTransient(
                new org.apache.kafka.common.errors.TimeoutException("Expiring 1 record(s): 10000 ms has passed"))).isTrue();
        assertThat(io.asyncroutes.support.TransientErrors.isTransient(new org.apache.camel.CamelExchangeException("publish failed",
                null, new org.apache.kafka.common.errors.NotEnoughReplicasException("1 of 3")))).isTrue();
        assertThat(io.asyncroutes.support.TransientErrors.isTransient(
                new org.apache.kafka.common.errors.RecordTooLargeException("too large"))).isFalse();
    }

    @Test
    void aFailedRecordOfAPartitionThatMovedIsLeftToItsNewOwner() throws Exception {
        KafkaCommitWindow window = new KafkaCommitWindow(100);
        InboundAcknowledgement acknowledgement = new InboundAcknowledgement(Duration.ofSeconds(1), Duration.ofSeconds(1));
        AtomicInteger attempts = new AtomicInteger();
        try (CamelContext camel = new DefaultCamelContext()) {
            acknowledgement.setCamelContext(camel);
            camel.addService(acknowledgement);
            camel.addRoutes(new RouteBuilder() {
                @Override
                public void configure() {
                    from("seda:handoff").errorHandler(noErrorHandler())
                            .process(acknowledgement)
                            .process(exchange -> {
                                attempts.incrementAndGet();
                                throw new IOException("Redis is down");
                            });
                }
            });
            camel.getShutdownStrategy().setTimeout(5);
            camel.start();
            KafkaCommitWindow.Delivery delivery = window.received("t", 3, 7);
            camel.createProducerTemplate().send("seda:handoff", e -> e.setProperty(ExchangeProperties.KAFKA_DELIVERY, delivery));
            await().atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(10)).until(() -> attempts.get() >= 1);
            window.lost(java.util.List.of(new KafkaCommitWindow.Partition("t", 3))); // a rebalance took it away
            // the retry would come 1 s after the failure: it does not, the new owner reads the record again
            await().during(Duration.ofMillis(1500)).atMost(Duration.ofSeconds(3)).until(() -> attempts.get() == 1);
        }
    }
}
