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
        RabbitPrerequisites.requireExchangeType(broker(), "x-consistent-hash", "rabbitmq_consistent_hash_exchange");

        assertThatThrownBy(() -> RabbitPrerequisites.requireExchangeType(broker(), "x-no-such-type", "rabbitmq_no_such_plugin"))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("rabbitmq-plugins enable rabbitmq_no_such_plugin");
    }
}
