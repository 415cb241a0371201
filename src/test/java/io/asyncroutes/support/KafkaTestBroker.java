package io.asyncroutes.support;

import org.springframework.kafka.test.EmbeddedKafkaKraftBroker;

/**
 * One real Kafka broker (KRaft mode, in this JVM, from the Kafka server artifacts via
 * spring-kafka-test) for the whole test run, on a fixed free port of 127.0.0.1 so that applications
 * started as their own processes reach it too. Each test owns its topics and consumer group.
 */
public final class KafkaTestBroker {

    private static EmbeddedKafkaKraftBroker broker;

    private KafkaTestBroker() {
    }

    /** Bootstrap servers of the broker, started on first use. */
    public static synchronized String brokers() {
        if (broker == null) {
            EmbeddedKafkaKraftBroker started = new EmbeddedKafkaKraftBroker(1, 1);
            started.kafkaPorts(EmbeddedProfileTest.freePort());
            // a consumer group forms at once (the default waits 3 s for more members to join)
            started.brokerProperty("group.initial.rebalance.delay.ms", "0");
            started.brokerProperty("offsets.topic.num.partitions", "4");
            started.afterPropertiesSet();
            Runtime.getRuntime().addShutdownHook(new Thread(started::destroy, "kafka-test-broker-stop"));
            broker = started;
        }
        return broker.getBrokersAsString();
    }
}
