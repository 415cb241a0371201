package io.asyncroutes.config;

import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeoutException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.amqp.core.Queue;

/**
 * The classic queue storage arguments of the queues the {@code services} topology declares: the
 * version ({@code x-queue-version}, {@code app.rabbitmq.queue-version}) and the mode
 * ({@code x-queue-mode}, {@code app.rabbitmq.queue-mode}); README "RabbitMQ queue version" and "RabbitMQ queue mode".
 *
 * <p>Why the version: RabbitMQ 3.10–3.13 create a classic queue as version 1 unless told otherwise;
 * version 2 is the one RabbitMQ recommends, and the only one from 4.0 (on the drain benchmark, RabbitMQ
 * 3.10: 8 % less broker CPU per message, an 8 % faster drain). Why the mode: before 3.12 a classic queue
 * keeps what it holds in memory and, once it is long, pages it out in bulk when the broker's memory
 * monitor asks (every few seconds), and the queue answers no one meanwhile: publishes to an unread
 * results queue, and to inbound queues a burst has filled, waited hundreds of milliseconds for their
 * confirms, which held the next message of the thread (accept → stored p99 0.3–0.5 s at a quarter
 * of the REST burst rate, 20 ms in lazy mode). A lazy queue writes each message out as it comes. From
 * 3.12 the broker ignores the mode: its classic queues work that way anyway.
 *
 * <p>A queue's arguments are fixed when it is created, and the broker refuses a declaration whose
 * arguments differ. So each queue is declared here once, at start, with the arguments: a new queue is
 * created with them; one created earlier with them is confirmed; one created earlier without one of
 * them (before these settings, or by hand) fails on that argument and is then declared without it,
 * keeping what it has; a WARN names those queues with the policy that sets the same in place (only
 * where it still matters on that broker).
 */
final class ClassicQueueArguments {

    static final String VERSION = "x-queue-version";
    static final String MODE = "x-queue-mode";
    private static final Logger LOG = LoggerFactory.getLogger(ClassicQueueArguments.class);
    private static final Pattern MAJOR_MINOR = Pattern.compile("^(\\d+)\\.(\\d+)");

    private final ConnectionFactory factory;
    private final Map<String, Object> wanted = new LinkedHashMap<>();
    private final String prefix;

    /**
     * @param factory the application's RabbitMQ connection settings (a connection of its own is opened and closed)
     * @param version 1 or 2; 0: no version argument, the broker's default or a policy decides
     * @param mode    {@code lazy} or {@code default}; empty: no mode argument
     * @param prefix  the queue-name prefix ({@code app.rabbitmq.prefix}), for the policy the WARN suggests
     */
    ClassicQueueArguments(ConnectionFactory factory, int version, String mode, String prefix) {
        this.factory = factory;
        this.prefix = prefix;
        if (version != 0) {
            wanted.put(VERSION, version);
        }
        if (mode != null && !mode.isBlank()) {
            wanted.put(MODE, mode);
        }
    }

    /** The queues as they are to be declared: each with the arguments, but those it exists without. */
    List<Queue> apply(List<Queue> queues) {
        if (wanted.isEmpty() || queues.isEmpty()) {
            return queues;
        }
        Connection connection;
        try {
            connection = factory.newConnection("async-routes-queue-arguments");
        } catch (IOException | TimeoutException e) {
            // the queues are declared when the broker comes; an existing one would refuse an argument
            LOG.warn("RabbitMQ not reachable at start ({}): its queues are declared without {} (the broker's defaults)",
                    e.toString(), wanted.keySet());
            return queues;
        }
        try (connection) {
            // also probed where the broker ignores them (the mode from 3.12, the version from 4.0): a queue
            // created with an argument on an earlier broker must still be declared with it after an upgrade
            List<Queue> declared = new ArrayList<>(queues.size());
            Set<String> effective = stillEffective(connection);
            Set<String> kept = new LinkedHashSet<>();
            Set<String> missing = new LinkedHashSet<>();
            for (Queue queue : queues) {
                Map<String, Object> arguments = new LinkedHashMap<>(queue.getArguments());
                arguments.putAll(wanted);
                String refused;
                while ((refused = declare(connection, queue, arguments)) != null) {
                    arguments.remove(refused); // the queue exists without it: declared as it is
                    if (effective.contains(refused)) {
                        kept.add(queue.getName());
                        missing.add(refused);
                    }
                }
                declared.add(new Queue(queue.getName(), queue.isDurable(), queue.isExclusive(), queue.isAutoDelete(), arguments));
            }
            if (!kept.isEmpty()) {
                Map<String, Object> policy = new LinkedHashMap<>(wanted);
                policy.keySet().retainAll(missing);
                String definition = policy.entrySet().stream()
                        .map(e -> "\"" + e.getKey().substring(2) + "\":" + (e.getValue() instanceof String s ? "\"" + s + "\"" : e.getValue()))
                        .collect(Collectors.joining(",", "{", "}"));
                LOG.warn("RabbitMQ queues {} exist from before without {}: left as they are. README \"RabbitMQ queue version\" and "
                        + "\"RabbitMQ queue mode\" say what they cost; a policy sets them in place: rabbitmqctl set_policy --apply-to queues "
                        + "{}-classic-queues '^{}\\.' '{}'",
                        kept, policy, prefix, prefix.replaceAll("[^A-Za-z0-9_-]", "\\\\$0"), definition);
            }
            return declared;
        } catch (IOException e) {
            LOG.warn("RabbitMQ queue arguments check failed ({}): queues declared without {}", e.toString(), wanted.keySet());
            return queues;
        }
    }

    /**
     * Declares the queue with these arguments; null when the broker took it, else the one of ours it
     * refused (the queue exists without it, or this broker does not know it). Any other refusal is
     * left to the topology's own declaration to report.
     */
    private String declare(Connection connection, Queue queue, Map<String, Object> arguments) throws IOException {
        Channel channel = connection.createChannel();
        try {
            channel.queueDeclare(queue.getName(), queue.isDurable(), queue.isExclusive(), queue.isAutoDelete(), arguments);
            channel.abort();
            return null;
        } catch (IOException refused) {
            // the broker closed the channel with its reason: "inequivalent arg 'x-queue-mode' ..."
            String reason = String.valueOf(refused.getCause() != null ? refused.getCause().getMessage() : refused.getMessage());
            return wanted.keySet().stream().filter(arguments::containsKey)
                    .filter(argument -> reason.contains("arg '" + argument + "'")).findFirst().orElse(null);
        }
    }

    /** The wanted arguments this broker still acts on (the version before 4.0, the mode before 3.12). */
    private Set<String> stillEffective(Connection connection) {
        int[] version = brokerVersion(connection);
        Set<String> effective = new LinkedHashSet<>();
        for (String argument : wanted.keySet()) {
            boolean matters = VERSION.equals(argument) ? version[0] < 4
                    : version[0] < 3 || (version[0] == 3 && version[1] < 12);
            if (matters) {
                effective.add(argument);
            }
        }
        return effective;
    }

    /** The broker's {major, minor} from its connection properties; {0, 0} when it does not say. */
    static int[] brokerVersion(Connection connection) {
        Object version = connection.getServerProperties().get("version");
        Matcher matcher = MAJOR_MINOR.matcher(String.valueOf(version));
        return matcher.find() ? new int[] {Integer.parseInt(matcher.group(1)), Integer.parseInt(matcher.group(2))} : new int[] {0, 0};
    }
}
