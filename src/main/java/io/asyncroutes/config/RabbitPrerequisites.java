package io.asyncroutes.config;

import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import java.io.IOException;
import java.util.UUID;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Checks, before anything else talks to RabbitMQ, that the broker has what the {@code services}
 * topology needs: the {@code x-consistent-hash} exchange type of the plugin
 * {@code rabbitmq_consistent_hash_exchange}. Without it the partition exchanges cannot be declared
 * and every publish would fail; the application refuses to start instead, with the command that
 * fixes it. An unreachable broker is not refused: the application starts and reconnects.
 */
public final class RabbitPrerequisites {

    private static final Logger LOG = LoggerFactory.getLogger(RabbitPrerequisites.class);

    private RabbitPrerequisites() {
    }

    /** Throws {@link IllegalStateException} naming the plugin and the command if the exchange type is unknown to the broker. */
    public static void requireExchangeType(ConnectionFactory factory, String exchangeType, String plugin) {
        String probe = "ar-prerequisite-probe-" + UUID.randomUUID();
        Connection connection;
        try {
            connection = factory.newConnection("async-routes-prerequisites");
        } catch (IOException | TimeoutException e) {
            LOG.warn("RabbitMQ not reachable at start ({}): its prerequisites are checked by its first use", e.toString());
            return;
        }
        try (connection) {
            Channel channel = connection.createChannel();
            channel.exchangeDeclare(probe, exchangeType, false, true, null);
            channel.exchangeDelete(probe);
        } catch (IOException e) {
            String reason = String.valueOf(e.getCause() != null ? e.getCause().getMessage() : e.getMessage());
            if (reason.contains("invalid exchange type") || reason.contains("COMMAND_INVALID")) {
                throw new IllegalStateException("RabbitMQ has no exchange type '" + exchangeType + "': enable the plugin "
                        + plugin + " on the broker (rabbitmq-plugins enable " + plugin + ") and start again", e);
            }
            throw new IllegalStateException("RabbitMQ refused the '" + exchangeType + "' exchange check: " + reason, e);
        }
    }
}
