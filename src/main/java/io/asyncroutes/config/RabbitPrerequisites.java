package io.asyncroutes.config;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Checks, before anything else talks to RabbitMQ, that the broker has what the {@code services}
 * topology needs: the partition exchanges' type ({@code x-modulus-hash}, or
 * {@code x-consistent-hash}, each a plugin on RabbitMQ 3.x), and no partition exchange of another
 * type left by an earlier configuration, and no partition queue left by an earlier, longer list.
 * Without them the partition exchanges cannot be declared and every publish would fail, or messages
 * would be routed where nobody reads them; the application refuses to start instead, with the
 * command that fixes it. An unreachable broker is not refused: the application starts and reconnects.
 */
public final class RabbitPrerequisites {

    private static final Logger LOG = LoggerFactory.getLogger(RabbitPrerequisites.class);

    /** Partition indexes probed at least, whatever the configured count. */
    static final int MIN_PROBED_PARTITIONS = 64;

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

    /**
     * Throws {@link IllegalStateException} when a queue named like a partition of this topology,
     * {@code <prefix>.<kind>.<n>}, exists that {@code configured} leaves out. Queues and bindings
     * outlive a configuration: after the list shrank (or changed its names) the exchange still routes
     * a share of the thread ids to the old queues, whose messages were accepted but are never read.
     * AMQP cannot list an exchange's bindings, so the conventional names are probed passively (a queue
     * is never created here): the first {@value #MIN_PROBED_PARTITIONS} indexes, or twice the configured count.
     */
    public static void refuseStrayPartitionQueues(ConnectionFactory factory, String exchange, String prefix, String kind,
                                                  List<String> configured, String setting) {
        Set<String> listed = Set.copyOf(configured);
        int probes = Math.max(MIN_PROBED_PARTITIONS, 2 * configured.size());
        Map<String, Integer> stray = new LinkedHashMap<>(); // queue -> messages on it
        onConnection(factory, connection -> {
            Channel channel = connection.createChannel();
            for (int n = 0; n < probes; n++) {
                String queue = prefix + "." + kind + "." + n;
                if (listed.contains(queue)) {
                    continue;
                }
                try {
                    AMQP.Queue.DeclareOk found = channel.queueDeclarePassive(queue);
                    stray.put(queue, found.getMessageCount());
                } catch (IOException e) {
                    if (!reason(e).contains("NOT_FOUND")) {
                        throw e;
                    }
                    channel = connection.createChannel(); // the broker closes a channel on 404
                }
            }
        }, (reason, e) -> new IllegalStateException("RabbitMQ refused the partition queue check: " + reason, e));
        if (!stray.isEmpty()) {
            List<String> described = new ArrayList<>();
            stray.forEach((queue, messages) -> described.add(queue + " (" + messages + (messages == 1 ? " message)" : " messages)")));
            throw new IllegalStateException("RabbitMQ has partition queues that " + setting + " does not list: "
                    + String.join(", ", described) + ". The exchange '" + exchange + "' may still route thread ids to"
                    + " them, where nobody would read their messages. Delete each once it is empty (rabbitmqctl"
                    + " delete_queue " + stray.keySet().iterator().next() + "; to empty one, run the instances with the"
                    + " earlier list until it is drained), or add them to " + setting
                    + " (README \"Changing the partition count\")");
        }
    }

    private interface ChannelWork {
        void run(Channel channel) throws IOException;
    }

    private interface ConnectionWork {
        void run(Connection connection) throws IOException;
    }

    /** {@link #onConnection} on one channel. */
    private static void onChannel(ConnectionFactory factory, ChannelWork work,
                                  java.util.function.BiFunction<String, IOException, IllegalStateException> refused) {
        onConnection(factory, connection -> work.run(connection.createChannel()), refused);
    }

    /**
     * Runs {@code work} on a short-lived connection; the broker's refusal (its reason text) becomes
     * the exception {@code refused} builds. An unreachable broker is not refused.
     */
    private static void onConnection(ConnectionFactory factory, ConnectionWork work,
                                     java.util.function.BiFunction<String, IOException, IllegalStateException> refused) {
        Connection connection;
        try {
            connection = factory.newConnection("async-routes-prerequisites");
        } catch (IOException | TimeoutException e) {
            LOG.warn("RabbitMQ not reachable at start ({}): its prerequisites are checked by its first use", e.toString());
            return;
        }
        try (connection) {
            work.run(connection);
        } catch (IOException e) {
            throw refused.apply(reason(e), e);
        }
    }

    /** The broker's reason text (a channel or connection closed by the broker carries it in the cause). */
    private static String reason(IOException e) {
        return String.valueOf(e.getCause() != null ? e.getCause().getMessage() : e.getMessage());
    }
}
