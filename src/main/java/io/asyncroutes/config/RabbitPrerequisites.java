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
 * topology needs: the partition exchanges' type ({@code x-modulus-hash}, or
 * {@code x-consistent-hash}, each a plugin on RabbitMQ 3.x), and no partition exchange of another
 * type left by an earlier configuration. Without them the partition exchanges cannot be declared
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
        onChannel(factory, channel -> {
            channel.exchangeDeclare(probe, exchangeType, false, true, null);
            channel.exchangeDelete(probe);
        }, (reason, e) -> {
            if (reason.contains("invalid exchange type") || reason.contains("COMMAND_INVALID")) {
                return new IllegalStateException("RabbitMQ has no exchange type '" + exchangeType + "': enable the plugin "
                        + plugin + " on the broker (rabbitmq-plugins enable " + plugin + ") and start again", e);
            }
            return new IllegalStateException("RabbitMQ refused the '" + exchangeType + "' exchange check: " + reason, e);
        });
    }

    /**
     * Declares the durable exchange {@code name} of {@code exchangeType} as the topology does; throws
     * {@link IllegalStateException} naming the way out if it exists with another type (the broker
     * would refuse the topology's declaration, and the consumers would never start).
     */
    public static void requireExchangeOfType(ConnectionFactory factory, String name, String exchangeType, String setting) {
        onChannel(factory, channel -> channel.exchangeDeclare(name, exchangeType, true, false, null), (reason, e) -> {
            if (reason.contains("inequivalent arg 'type'")) {
                return new IllegalStateException("RabbitMQ exchange '" + name + "' exists with another type than " + exchangeType
                        + " (" + reason + "): delete it once its queues are drained (an AMQP exchange.delete, e.g. rabbitmqadmin delete exchange name="
                        + name + "; the queues and their messages stay), or set " + setting + " to its type", e);
            }
            return new IllegalStateException("RabbitMQ refused to declare exchange '" + name + "': " + reason, e);
        });
    }

    private interface ChannelWork {
        void run(Channel channel) throws IOException;
    }

    /**
     * Runs {@code work} on a channel of a short-lived connection; the broker's refusal (its reason
     * text) becomes the exception {@code refused} builds. An unreachable broker is not refused.
     */
    private static void onChannel(ConnectionFactory factory, ChannelWork work,
                                  java.util.function.BiFunction<String, IOException, IllegalStateException> refused) {
        Connection connection;
        try {
            connection = factory.newConnection("async-routes-prerequisites");
        } catch (IOException | TimeoutException e) {
            LOG.warn("RabbitMQ not reachable at start ({}): its prerequisites are checked by its first use", e.toString());
            return;
        }
        try (connection) {
            work.run(connection.createChannel());
        } catch (IOException e) {
            throw refused.apply(String.valueOf(e.getCause() != null ? e.getCause().getMessage() : e.getMessage()), e);
        }
    }
}
