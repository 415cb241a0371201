package io.asyncroutes.config;

import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeoutException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.amqp.core.Queue;

/**
 * The classic queue storage version ({@code x-queue-version}, {@code app.rabbitmq.queue-version}) of
 * the queues the {@code services} topology declares (README "RabbitMQ queue version").
 *
 * <p>Why: RabbitMQ 3.10–3.13 create a classic queue as version 1 unless told otherwise; version 2 is
 * the one RabbitMQ recommends, and the only one from 4.0. On the drain benchmark (RabbitMQ 3.10, 15
 * alternating runs) version 2 took RabbitMQ's CPU per message from 0.153 to 0.141 ms and the drain
 * from 5 029 to 5 442 msg/s (medians).
 *
 * <p>A queue's arguments are fixed when it is created, and the broker refuses a declaration whose
 * arguments differ. So each queue is declared here once, at start, with the argument: a new queue is
 * created with it; one created earlier with it is confirmed; one created earlier without it (before
 * this setting, or by hand) fails on that argument alone and is then declared as before, keeping its
 * version; a WARN names those queues with the policy that converts them in place (not on RabbitMQ 4
 * and later, where every classic queue is version 2 whatever its arguments say).
 */
final class ClassicQueueVersion {

    static final String ARGUMENT = "x-queue-version";
    private static final Logger LOG = LoggerFactory.getLogger(ClassicQueueVersion.class);
    private static final Pattern MAJOR = Pattern.compile("^(\\d+)\\.");

    private final ConnectionFactory factory;
    private final int version;
    private final String prefix;

    /**
     * @param factory the application's RabbitMQ connection settings (a connection of its own is opened and closed)
     * @param version 1 or 2; 0: no argument at all, the broker's default or a policy decides
     * @param prefix  the queue-name prefix ({@code app.rabbitmq.prefix}), for the policy the WARN suggests
     */
    ClassicQueueVersion(ConnectionFactory factory, int version, String prefix) {
        this.factory = factory;
        this.version = version;
        this.prefix = prefix;
    }

    /** The queues as they are to be declared: each with the version argument, unless it exists without it. */
    List<Queue> apply(List<Queue> queues) {
        if (version == 0 || queues.isEmpty()) {
            return queues;
        }
        Connection connection;
        try {
            connection = factory.newConnection("async-routes-queue-version");
        } catch (IOException | TimeoutException e) {
            // the queues are declared when the broker comes; an existing one would refuse the argument
            LOG.warn("RabbitMQ not reachable at start ({}): its queues are declared without {} (the broker's default version)",
                    e.toString(), ARGUMENT);
            return queues;
        }
        try (connection) {
            // also probed on RabbitMQ 4 (one implementation there, version 2): a queue created with the
            // argument on 3.x must be declared with it after a broker upgrade
            List<Queue> declared = new ArrayList<>(queues.size());
            List<String> kept = new ArrayList<>();
            for (Queue queue : queues) {
                Queue versioned = withVersion(queue);
                if (declare(connection, versioned)) {
                    declared.add(versioned);
                } else {
                    declared.add(queue);
                    kept.add(queue.getName());
                }
            }
            if (!kept.isEmpty() && brokerMajor(connection) < 4) {
                LOG.warn("RabbitMQ queues {} exist from before without {}: left at the version they have (1 on RabbitMQ 3.x "
                        + "unless a policy sets it). Version {} is RabbitMQ's recommended one and costs the broker less per message "
                        + "(README \"RabbitMQ queue version\"); a policy converts them in place: rabbitmqctl set_policy "
                        + "--apply-to queues {}-queue-version '^{}\\.' '{\"queue-version\":{}}'",
                        kept, ARGUMENT, version, prefix, prefix.replaceAll("[^A-Za-z0-9_-]", "\\\\$0"), version);
            }
            return declared;
        } catch (IOException e) {
            LOG.warn("RabbitMQ queue version check failed ({}): queues declared without {}", e.toString(), ARGUMENT);
            return queues;
        }
    }

    private Queue withVersion(Queue queue) {
        Map<String, Object> arguments = new HashMap<>(queue.getArguments());
        arguments.put(ARGUMENT, version);
        return new Queue(queue.getName(), queue.isDurable(), queue.isExclusive(), queue.isAutoDelete(), arguments);
    }

    /**
     * Declares the queue with its version; false when the broker refused it because the queue exists
     * without that version. Any other refusal is left to the topology's own declaration to report.
     */
    private static boolean declare(Connection connection, Queue queue) throws IOException {
        Channel channel = connection.createChannel();
        try {
            channel.queueDeclare(queue.getName(), queue.isDurable(), queue.isExclusive(), queue.isAutoDelete(), queue.getArguments());
            channel.abort();
            return true;
        } catch (IOException refused) {
            // the broker closed the channel with its reason
            String reason = String.valueOf(refused.getCause() != null ? refused.getCause().getMessage() : refused.getMessage());
            return !reason.contains("inequivalent arg '" + ARGUMENT + "'");
        }
    }

    /** The broker's major version from its connection properties; 0 when it does not say. */
    static int brokerMajor(Connection connection) {
        Object version = connection.getServerProperties().get("version");
        Matcher major = MAJOR.matcher(String.valueOf(version));
        return major.find() ? Integer.parseInt(major.group(1)) : 0;
    }
}
