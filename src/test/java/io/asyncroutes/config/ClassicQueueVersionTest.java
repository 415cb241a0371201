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
 * Against the machine's RabbitMQ: the topology's queues are created as classic queue version 2, a
 * queue that exists from before without the argument keeps its version and its messages (and a WARN
 * names it with the policy that converts it), and neither setting 0 nor an unreachable broker sends
 * the argument.
 */
class ClassicQueueVersionTest {

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
        ((Logger) LoggerFactory.getLogger(ClassicQueueVersion.class)).addAppender(log);
    }

    @AfterEach
    void cleanUp() throws Exception {
        ((Logger) LoggerFactory.getLogger(ClassicQueueVersion.class)).detachAppender(log);
        Channel channel = connection.createChannel();
        channel.queueDelete(NEW);
        channel.queueDelete(OLD);
        connection.close();
    }

    private boolean rabbitMq3() {
        return ClassicQueueVersion.brokerMajor(connection) == 3;
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
    void aNewQueueIsCreatedAsVersion2() throws Exception {
        List<Queue> declared = new ClassicQueueVersion(broker(), 2, "ar-qv-test").apply(List.of(partition(NEW)));

        assertThat(declared.get(0).getArguments()).containsEntry("x-queue-version", 2).containsEntry("x-single-active-consumer", true);
        // the queue exists now, with exactly these arguments: the topology's own declaration goes through
        assertThat(accepts(NEW, declared.get(0).getArguments())).isTrue();
        if (rabbitMq3()) { // the argument is part of the queue's identity there
            assertThat(accepts(NEW, Map.of("x-single-active-consumer", true))).as("declared without the version").isFalse();
        }
        assertThat(log.list).isEmpty();
    }

    @Test
    void aQueueFromBeforeWithoutTheArgumentKeepsItsVersionAndItsMessages() throws Exception {
        Channel channel = connection.createChannel();
        channel.queueDeclare(OLD, true, false, false, Map.of("x-single-active-consumer", true));
        channel.basicPublish("", OLD, null, "waiting".getBytes());
        channel.close();

        List<Queue> declared = new ClassicQueueVersion(broker(), 2, "ar-qv-test").apply(List.of(partition(OLD), partition(NEW)));

        Queue old = declared.get(0);
        assertThat(old.getName()).isEqualTo(OLD);
        assertThat(old.getArguments()).doesNotContainKey("x-queue-version").containsEntry("x-single-active-consumer", true);
        assertThat(accepts(OLD, old.getArguments())).isTrue();
        assertThat(connection.createChannel().queueDeclarePassive(OLD).getMessageCount()).isEqualTo(1);
        assertThat(declared.get(1).getArguments()).containsEntry("x-queue-version", 2); // the new one beside it
        if (rabbitMq3()) { // RabbitMQ 4 has version 2 only: nothing to warn about
            assertThat(log.list).singleElement().satisfies(warn -> assertThat(warn.getFormattedMessage())
                    .contains("[" + OLD + "]")
                    .doesNotContain(NEW)
                    .contains("rabbitmqctl set_policy --apply-to queues ar-qv-test-queue-version '^ar-qv-test\\.' '{\"queue-version\":2}'"));
        }
    }

    @Test
    void version0SendsNoArgumentAndProbesNothing() throws Exception {
        List<Queue> declared = new ClassicQueueVersion(broker(), 0, "ar-qv-test").apply(List.of(partition(NEW)));

        assertThat(declared.get(0).getArguments()).doesNotContainKey("x-queue-version");
        // not even created: the topology's declaration does that as before
        assertThatThrownBy(() -> connection.createChannel().queueDeclarePassive(NEW)).isInstanceOf(IOException.class);
    }

    @Test
    void anUnreachableBrokerLeavesTheArgumentOut() {
        ConnectionFactory nowhere = broker();
        nowhere.setPort(1); // nothing listens there
        nowhere.setConnectionTimeout(2_000);

        List<Queue> declared = new ClassicQueueVersion(nowhere, 2, "ar-qv-test").apply(List.of(partition(NEW)));

        assertThat(declared.get(0).getArguments()).doesNotContainKey("x-queue-version");
        assertThat(log.list).singleElement().satisfies(warn ->
                assertThat(warn.getFormattedMessage()).contains("not reachable").contains("x-queue-version"));
    }
}
