package io.asyncroutes.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import java.io.IOException;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;
import org.springframework.amqp.core.Queue;
import org.springframework.amqp.core.QueueBuilder;

/**
 * Against the machine's RabbitMQ: the topology's queues are created as classic queue version 2 in lazy
 * mode, a queue that exists from before without an argument keeps what it has and its messages (and a
 * WARN names it with the policy that sets the same in place), and neither the settings that turn them
 * off nor an unreachable broker send the arguments.
 */
class ClassicQueueArgumentsTest {

    private static final String NEW = "ar-qv-test.new";
    private static final String OLD = "ar-qv-test.old";
    private final ListAppender<ILoggingEvent> log = new ListAppender<>();
    private Connection connection;

    private static ConnectionFactory broker() {
        ConnectionFactory factory = new ConnectionFactory();
        factory.setHost("127.0.0.1");
        return factory;
    }

    private static Queue partition(String name) {
        return QueueBuilder.durable(name).singleActiveConsumer().build();
    }

    @BeforeEach
    void deleteTheQueues() throws Exception {
        connection = broker().newConnection();
        Channel channel = connection.createChannel();
        channel.queueDelete(NEW);
        channel.queueDelete(OLD);
        log.start();
        ((Logger) LoggerFactory.getLogger(ClassicQueueArguments.class)).addAppender(log);
    }

    @AfterEach
    void cleanUp() throws Exception {
        ((Logger) LoggerFactory.getLogger(ClassicQueueArguments.class)).detachAppender(log);
        Channel channel = connection.createChannel();
        channel.queueDelete(NEW);
        channel.queueDelete(OLD);
        connection.close();
    }

    private boolean rabbitMq3() {
        return ClassicQueueArguments.brokerVersion(connection)[0] == 3;
    }

    /** Before 3.12 the mode is the queue's own (later versions ignore it). */
    private boolean modeMatters() {
        int[] version = ClassicQueueArguments.brokerVersion(connection);
        return version[0] == 3 && version[1] < 12;
    }

    private static ClassicQueueArguments versionAndMode() {
        return new ClassicQueueArguments(broker(), 2, "lazy", "ar-qv-test");
    }

    /** Whether the broker accepts this declaration of an existing queue (it refuses any argument that differs). */
    private boolean accepts(String name, Map<String, Object> arguments) throws IOException {
        Channel channel = connection.createChannel();
        try {
            channel.queueDeclare(name, true, false, false, arguments);
            channel.close();
            return true;
        } catch (IOException refused) {
            assertThat(String.valueOf(refused.getCause())).contains("PRECONDITION_FAILED");
            return false;
        } catch (java.util.concurrent.TimeoutException e) {
            throw new IOException(e);
        }
    }

    @Test
    void aNewQueueIsCreatedAsVersion2InLazyMode() throws Exception {
        List<Queue> declared = versionAndMode().apply(List.of(partition(NEW)));

        assertThat(declared.get(0).getArguments()).containsEntry("x-queue-version", 2).containsEntry("x-queue-mode", "lazy")
                .containsEntry("x-single-active-consumer", true);
        // the queue exists now, with exactly these arguments: the topology's own declaration goes through
        assertThat(accepts(NEW, declared.get(0).getArguments())).isTrue();
        if (rabbitMq3()) { // the arguments are part of the queue's identity there
            assertThat(accepts(NEW, Map.of("x-single-active-consumer", true, "x-queue-mode", "lazy")))
                    .as("declared without the version").isFalse();
        }
        if (modeMatters()) {
            assertThat(accepts(NEW, Map.of("x-single-active-consumer", true, "x-queue-version", 2)))
                    .as("declared without the mode").isFalse();
        }
        assertThat(log.list).isEmpty();
    }

    @Test
    void aQueueFromBeforeWithoutTheArgumentsKeepsWhatItHasAndItsMessages() throws Exception {
        Channel channel = connection.createChannel();
        channel.queueDeclare(OLD, true, false, false, Map.of("x-single-active-consumer", true));
        channel.basicPublish("", OLD, null, "waiting".getBytes());
        channel.close();

        List<Queue> declared = versionAndMode().apply(List.of(partition(OLD), partition(NEW)));

        Queue old = declared.get(0);
        assertThat(old.getName()).isEqualTo(OLD);
        assertThat(old.getArguments()).doesNotContainKeys("x-queue-version", "x-queue-mode").containsEntry("x-single-active-consumer", true);
        assertThat(accepts(OLD, old.getArguments())).isTrue();
        assertThat(connection.createChannel().queueDeclarePassive(OLD).getMessageCount()).isEqualTo(1);
        assertThat(declared.get(1).getArguments()).containsEntry("x-queue-version", 2).containsEntry("x-queue-mode", "lazy");
        if (modeMatters()) { // RabbitMQ 3.10/3.11: both still count, one policy sets both (a queue takes one policy)
            assertThat(log.list).singleElement().satisfies(warn -> assertThat(warn.getFormattedMessage())
                    .contains("[" + OLD + "]")
                    .doesNotContain(NEW)
                    .contains("rabbitmqctl set_policy --apply-to queues ar-qv-test-classic-queues '^ar-qv-test\\.' "
                            + "'{\"queue-version\":2,\"queue-mode\":\"lazy\"}'"));
        } else if (rabbitMq3()) { // 3.12 and later: the version only
            assertThat(log.list).singleElement().satisfies(warn -> assertThat(warn.getFormattedMessage())
                    .contains("'{\"queue-version\":2}'"));
        } else { // RabbitMQ 4 has version 2 only and no modes: nothing to warn about
            assertThat(log.list).isEmpty();
        }
    }

    @Test
    void aQueueOfThePreviousReleaseKeepsItsVersionAndGoesWithoutTheMode() throws Exception {
        Channel channel = connection.createChannel();
        channel.queueDeclare(OLD, true, false, false, Map.of("x-single-active-consumer", true, "x-queue-version", 2));
        channel.close();

        List<Queue> declared = versionAndMode().apply(List.of(partition(OLD)));

        assertThat(declared.get(0).getArguments()).containsEntry("x-queue-version", 2).doesNotContainKey("x-queue-mode");
        assertThat(accepts(OLD, declared.get(0).getArguments())).isTrue();
        if (modeMatters()) {
            assertThat(log.list).singleElement().satisfies(warn -> assertThat(warn.getFormattedMessage())
                    .contains("[" + OLD + "]").contains("'{\"queue-mode\":\"lazy\"}'"));
        }
    }

    @Test
    void version0AndNoModeSendNoArgumentAndProbeNothing() throws Exception {
        List<Queue> declared = new ClassicQueueArguments(broker(), 0, "", "ar-qv-test").apply(List.of(partition(NEW)));

        assertThat(declared.get(0).getArguments()).doesNotContainKeys("x-queue-version", "x-queue-mode");
        // not even created: the topology's declaration does that as before
        assertThatThrownBy(() -> connection.createChannel().queueDeclarePassive(NEW)).isInstanceOf(IOException.class);
    }

    @Test
    void eachArgumentIsASettingOfItsOwn() throws Exception {
        Queue modeOnly = new ClassicQueueArguments(broker(), 0, "lazy", "ar-qv-test").apply(List.of(partition(NEW))).get(0);
        Queue versionOnly = new ClassicQueueArguments(broker(), 1, "", "ar-qv-test").apply(List.of(partition(OLD))).get(0);

        assertThat(modeOnly.getArguments()).containsEntry("x-queue-mode", "lazy").doesNotContainKey("x-queue-version");
        assertThat(versionOnly.getArguments()).containsEntry("x-queue-version", 1).doesNotContainKey("x-queue-mode");
        assertThat(accepts(NEW, modeOnly.getArguments())).isTrue();
        assertThat(accepts(OLD, versionOnly.getArguments())).isTrue();
    }

    @Test
    void anUnreachableBrokerLeavesTheArgumentOut() {
        ConnectionFactory nowhere = broker();
        nowhere.setPort(1); // nothing listens there
        nowhere.setConnectionTimeout(2_000);

        List<Queue> declared = new ClassicQueueArguments(nowhere, 2, "lazy", "ar-qv-test").apply(List.of(partition(NEW)));

        assertThat(declared.get(0).getArguments()).doesNotContainKeys("x-queue-version", "x-queue-mode");
        assertThat(log.list).singleElement().satisfies(warn ->
                assertThat(warn.getFormattedMessage()).contains("not reachable").contains("x-queue-version"));
    }
}
