package io.asyncroutes.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import io.asyncroutes.support.ServicesProfileTest;
import java.io.IOException;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The RabbitMQ side of the {@code services} profile as the broker sees it: the results queue is
 * durable and bounded (TTL and maximum length, like the Artemis results queue's time-to-live), the
 * dead-letter queue durable; a broker without a needed exchange type is refused with the plugin
 * and the command that enables it.
 */
class RabbitTopologyServicesTest extends ServicesProfileTest {

    private static ConnectionFactory broker() {
        ConnectionFactory factory = new ConnectionFactory();
        factory.setHost("127.0.0.1");
        return factory;
    }

    @Test
    void theResultsQueueIsDurableAndBoundedAndTheDeadLetterQueueDurable() throws Exception {
        try (Connection connection = broker().newConnection()) {
            // a declaration with exactly the same arguments succeeds; any other argument is refused by the broker
            Channel channel = connection.createChannel();
            channel.queueDeclare(PREFIX + ".results", true, false, false,
                    Map.of("x-message-ttl", 86_400_000, "x-max-length", 1_000_000));
            channel.queueDeclare(PREFIX + ".dead-letter", true, false, false, null);

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
}
