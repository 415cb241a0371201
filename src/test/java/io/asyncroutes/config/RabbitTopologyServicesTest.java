package io.asyncroutes.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import com.rabbitmq.client.impl.AMQConnection;
import com.rabbitmq.client.impl.nio.SocketChannelFrameHandler;
import io.asyncroutes.support.ServicesProfileTest;
import com.rabbitmq.client.MessageProperties;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.springframework.amqp.rabbit.connection.CachingConnectionFactory;
import org.springframework.beans.factory.annotation.Autowired;

/**
 * The RabbitMQ side of the {@code services} profile as the broker sees it: the results queue is
 * durable and bounded (TTL and maximum length, like the Artemis results queue's time-to-live), the
 * dead-letter queue durable, every queue a classic queue of version 2; a broker without a needed exchange type is refused with the plugin
 * and the command that enables it.
 */
class RabbitTopologyServicesTest extends ServicesProfileTest {

    private static ConnectionFactory broker() {
        ConnectionFactory factory = new ConnectionFactory();
        factory.setHost("127.0.0.1");
        return factory;
    }

    @Autowired
    private CachingConnectionFactory rabbitConnectionFactory;

    /** app.rabbitmq.nio (on by default): the application's connection runs in the client's NIO mode. */
    @Test
    void theApplicationsConnectionRunsInTheClientsNioMode() {
        Connection connection = rabbitConnectionFactory.createConnection().getDelegate();
        assertThat(((AMQConnection) connection).getFrameHandler()).isInstanceOf(SocketChannelFrameHandler.class);
    }

    @Test
    void theResultsQueueIsDurableAndBoundedAndTheDeadLetterQueueDurable() throws Exception {
        try (Connection connection = broker().newConnection()) {
            // a declaration with exactly the same arguments succeeds; any other argument is refused by the broker
            Channel channel = connection.createChannel();
            channel.queueDeclare(PREFIX + ".results", true, false, false,
                    Map.of("x-message-ttl", 86_400_000, "x-max-length", 1_000_000, "x-queue-version", 2, "x-queue-mode", "lazy"));
            channel.queueDeclare(PREFIX + ".dead-letter", true, false, false, Map.of("x-queue-version", 2, "x-queue-mode", "lazy"));

            Channel unbounded = connection.createChannel();
            assertThatThrownBy(() -> unbounded.queueDeclare(PREFIX + ".results", true, false, false, null))
                    .isInstanceOf(IOException.class)
                    .satisfies(e -> assertThat(String.valueOf(e.getCause())).contains("PRECONDITION_FAILED"));
        }
    }

    @Test
    void aBrokerWithoutAnExchangeTypeIsRefusedWithThePluginAndTheCommand() {
        RabbitPrerequisites.requireExchangeType(broker(), "x-modulus-hash", "rabbitmq_sharding");
        RabbitPrerequisites.requireExchangeType(broker(), "x-consistent-hash", "rabbitmq_consistent_hash_exchange");

        assertThatThrownBy(() -> RabbitPrerequisites.requireExchangeType(broker(), "x-no-such-type", "rabbitmq_no_such_plugin"))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("rabbitmq-plugins enable rabbitmq_no_such_plugin");
    }

    /**
     * The application created its queues as classic queue version 2 in lazy mode (app.rabbitmq.queue-version
     * and queue-mode; this machine's broker is RabbitMQ 3.10, where the defaults are version 1, default mode).
     */
    @Test
    void thePartitionQueuesAreLazyClassicQueuesOfVersion2() throws Exception {
        try (Connection connection = broker().newConnection()) {
            Channel channel = connection.createChannel();
            for (String queue : java.util.List.of(PREFIX + ".in.0", PREFIX + ".in.15", PREFIX + ".persist.7")) {
                channel.queueDeclare(queue, true, false, false,
                        Map.of("x-single-active-consumer", true, "x-queue-version", 2, "x-queue-mode", "lazy"));
            }
            Channel unversioned = connection.createChannel();
            assertThatThrownBy(() -> unversioned.queueDeclare(PREFIX + ".in.0", true, false, false,
                    Map.of("x-single-active-consumer", true, "x-queue-mode", "lazy")))
                    .isInstanceOf(IOException.class)
                    .satisfies(e -> assertThat(String.valueOf(e.getCause())).contains("inequivalent arg 'x-queue-version'"));
            Channel eager = connection.createChannel();
            assertThatThrownBy(() -> eager.queueDeclare(PREFIX + ".in.0", true, false, false,
                    Map.of("x-single-active-consumer", true, "x-queue-version", 2)))
                    .isInstanceOf(IOException.class)
                    .satisfies(e -> assertThat(String.valueOf(e.getCause())).contains("inequivalent arg 'x-queue-mode'"));
        }
    }

    /** The partition exchange is an x-modulus-hash exchange (the default), durable, over the partition queues. */
    @Test
    void thePartitionExchangesAreModulusHashExchanges() throws Exception {
        try (Connection connection = broker().newConnection()) {
            Channel channel = connection.createChannel();
            // the same declaration succeeds; any other type is refused by the broker
            channel.exchangeDeclare(PREFIX + ".in", "x-modulus-hash", true, false, null);
            channel.exchangeDeclare(PREFIX + ".persist", "x-modulus-hash", true, false, null);
            Channel other = connection.createChannel();
            assertThatThrownBy(() -> other.exchangeDeclare(PREFIX + ".in", "x-consistent-hash", true, false, null))
                    .isInstanceOf(IOException.class)
                    .satisfies(e -> assertThat(String.valueOf(e.getCause())).contains("inequivalent arg 'type'"));
        }
    }

    /**
     * A partition exchange left with another type by an earlier configuration (x-consistent-hash before
     * 2026-12-04) is refused at start with the way out, instead of consumers that never start.
     */
    @Test
    void aPartitionExchangeOfAnotherTypeIsRefusedWithTheWayOut() throws Exception {
        String name = PREFIX + "-old-type.in";
        try (Connection connection = broker().newConnection()) {
            Channel channel = connection.createChannel();
            channel.exchangeDelete(name);
            channel.exchangeDeclare(name, "x-consistent-hash", true, false, null);
            try {
                assertThatThrownBy(() -> RabbitPrerequisites.requireExchangeOfType(broker(), name, "x-modulus-hash",
                        "app.rabbitmq.partition-exchange-type"))
                        .isInstanceOf(IllegalStateException.class)
                        .hasMessageContaining("exists with another type than x-modulus-hash")
                        .hasMessageContaining("rabbitmqadmin delete exchange name=" + name)
                        .hasMessageContaining("app.rabbitmq.partition-exchange-type");
                RabbitPrerequisites.requireExchangeOfType(broker(), name, "x-consistent-hash", "app.rabbitmq.partition-exchange-type");
            } finally {
                connection.createChannel().exchangeDelete(name);
            }
        }
    }

    /**
     * A queue named like a partition that the configured list leaves out (a longer list before, or other
     * names) is refused at start, with what it holds: the exchange would still route thread ids to it,
     * where nobody reads them (found by hand: a list shrunk from 16 to 4 queues of other names left 72 051 accepted
     * messages on the old queues).
     */
    @Test
    void aPartitionQueueTheListLeavesOutIsRefusedWithWhatItHolds() throws Exception {
        String prefix = PREFIX + "-stray";
        String setting = "app.rabbitmq.inbound-queues";
        List<String> configured = List.of(prefix + ".in.0", prefix + ".in.1");
        try (Connection connection = broker().newConnection()) {
            Channel channel = connection.createChannel();
            for (String queue : List.of(prefix + ".in.0", prefix + ".in.1", prefix + ".in.5")) {
                channel.queueDeclare(queue, true, false, false, null);
            }
            channel.confirmSelect();
            channel.basicPublish("", prefix + ".in.5", MessageProperties.PERSISTENT_TEXT_PLAIN,
                    "{}".getBytes(StandardCharsets.UTF_8));
            channel.waitForConfirmsOrDie(5_000);
            try {
                assertThatThrownBy(() -> RabbitPrerequisites.refuseStrayPartitionQueues(broker(), prefix + ".in", prefix, "in",
                        configured, setting))
                        .isInstanceOf(IllegalStateException.class)
                        .hasMessageContaining("partition queues that " + setting + " does not list: " + prefix + ".in.5 (1 message).")
                        .hasMessageContaining("rabbitmqctl delete_queue " + prefix + ".in.5")
                        .hasMessageContaining("exchange '" + prefix + ".in'");
                // other names for the partitions: the conventional ones left behind are stray too
                assertThatThrownBy(() -> RabbitPrerequisites.refuseStrayPartitionQueues(broker(), prefix + ".in", prefix, "in",
                        List.of(prefix + ".renamed.0"), setting))
                        .hasMessageContaining(": " + prefix + ".in.0 (0 messages), " + prefix + ".in.1 (0 messages), "
                                + prefix + ".in.5 (1 message).");

                channel.queueDelete(prefix + ".in.5");
                RabbitPrerequisites.refuseStrayPartitionQueues(broker(), prefix + ".in", prefix, "in", configured, setting);
            } finally {
                Channel cleanup = connection.createChannel();
                for (String queue : List.of(prefix + ".in.0", prefix + ".in.1", prefix + ".in.5")) {
                    cleanup.queueDelete(queue);
                }
            }
        }
    }
}
