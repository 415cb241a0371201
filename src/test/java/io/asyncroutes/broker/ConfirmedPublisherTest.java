package io.asyncroutes.broker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.rabbitmq.client.Channel;
import com.rabbitmq.client.ConnectionFactory;
import com.rabbitmq.client.GetResponse;
import io.asyncroutes.support.EmbeddedProfileTest;
import io.asyncroutes.support.TcpProxy;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The confirmed publisher against this machine's RabbitMQ, on a connection factory in the client's
 * blocking mode and in its NIO mode ({@code app.rabbitmq.nio}, the default of {@code services}).
 */
class ConfirmedPublisherTest {

    private TestQueue testQueue;
    private ConnectionFactory factory;
    private Channel channel;
    private String queue;

    @BeforeEach
    void queue() throws Exception {
        testQueue = new TestQueue("ar-publisher-test-");
        factory = testQueue.factory;
        channel = testQueue.channel;
        queue = testQueue.name;
    }

    private void mode(boolean nio) {
        if (nio) {
            NioConnections.apply(factory, Duration.ofSeconds(10));
        }
    }

    /**
     * In NIO mode the publisher's connection reads and writes on the client's I/O thread; in blocking
     * mode it has a reader thread of its own and writes on the callers' threads.
     */
    @ParameterizedTest(name = "nio={0}")
    @ValueSource(booleans = {false, true})
    void theConnectionRunsInTheModeOfItsFactory(boolean nio) throws Exception {
        mode(nio);
        Set<Thread> before = Thread.getAllStackTraces().keySet();
        try (ConfirmedPublisher publisher = new ConfirmedPublisher(factory, 1, Duration.ofSeconds(10))) {
            publisher.publish("", queue, Map.of(), "m".getBytes(StandardCharsets.UTF_8)).get(10, TimeUnit.SECONDS);
            List<String> started = Thread.getAllStackTraces().keySet().stream()
                    .filter(thread -> !before.contains(thread)).map(Thread::getName).toList();
            assertThat(started.stream().anyMatch(name -> name.equals(NioConnections.IO_THREAD_NAME)))
                    .as("an I/O thread of the NIO mode among %s", started).isEqualTo(nio);
            assertThat(started.stream().anyMatch(name -> name.startsWith("AMQP Connection")))
                    .as("a reader thread of the blocking mode among %s", started).isEqualTo(!nio);
        }
    }

    @AfterEach
    void close() throws Exception {
        testQueue.close();
    }

    @ParameterizedTest(name = "nio={0}")
    @ValueSource(booleans = {false, true})
    void everyMessageIsConfirmedAndArrivesInOrderWithItsHeaders(boolean nio) throws Exception {
        mode(nio);
        try (ConfirmedPublisher publisher = new ConfirmedPublisher(factory, 3, Duration.ofSeconds(10))) {
            List<CompletableFuture<Void>> confirms = new ArrayList<>();
            for (int i = 0; i < 2_000; i++) {
                confirms.add(publisher.publish("", queue, Map.of("arSeq", i), ("m" + i).getBytes(StandardCharsets.UTF_8)));
            }
            CompletableFuture.allOf(confirms.toArray(CompletableFuture[]::new)).get(30, TimeUnit.SECONDS);
        }
        assertThat(channel.messageCount(queue)).isEqualTo(2_000);
        for (int i = 0; i < 2_000; i++) {
            GetResponse message = channel.basicGet(queue, true);
            assertThat(new String(message.getBody(), StandardCharsets.UTF_8)).isEqualTo("m" + i);
            assertThat(message.getProps().getHeaders()).containsEntry("arSeq", i);
            assertThat(message.getProps().getDeliveryMode()).as("persistent").isEqualTo(2);
        }
    }

    /**
     * The broker confirms a message no queue took like a stored one; seen while RabbitMQ stops (its
     * consistent-hash exchanges route to nothing for a moment): a hand-off counted as durable was
     * lost, and the message's redelivered copy was stored as {@code duplicate}.
     */
    @ParameterizedTest(name = "nio={0}")
    @ValueSource(booleans = {false, true})
    void aMessageNoQueueTakesFailsItsFutureAndTheOthersAreStillConfirmed(boolean nio) throws Exception {
        mode(nio);
        try (ConfirmedPublisher publisher = new ConfirmedPublisher(factory, 1, Duration.ofSeconds(10))) {
            CompletableFuture<Void> before = publisher.publish("", queue, Map.of(), "kept-1".getBytes(StandardCharsets.UTF_8));
            // the default exchange with a routing key that names no queue: routed nowhere
            CompletableFuture<Void> unroutable = publisher.publish("", "ar-no-such-queue-" + UUID.randomUUID(), Map.of(),
                    "lost".getBytes(StandardCharsets.UTF_8));
            CompletableFuture<Void> after = publisher.publish("", queue, Map.of(), "kept-2".getBytes(StandardCharsets.UTF_8));
            assertThatThrownBy(() -> unroutable.get(10, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class)
                    .hasMessageContaining("no queue took the message");
            before.get(10, TimeUnit.SECONDS);
            after.get(10, TimeUnit.SECONDS);
        }
        assertThat(channel.messageCount(queue)).isEqualTo(2);
    }

    @ParameterizedTest(name = "nio={0}")
    @ValueSource(booleans = {false, true})
    void aMessageTheBrokerRefusesFailsItsFutureAndTheNextOneGoesThrough(boolean nio) throws Exception {
        mode(nio);
        try (ConfirmedPublisher publisher = new ConfirmedPublisher(factory, 1, Duration.ofSeconds(10))) {
            // an exchange that does not exist: the broker closes the channel, nothing was confirmed
            CompletableFuture<Void> refused = publisher.publish("ar-no-such-exchange-" + UUID.randomUUID(), queue, Map.of(),
                    "lost".getBytes(StandardCharsets.UTF_8));
            assertThatThrownBy(() -> refused.get(10, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class)
                    .hasMessageContaining("channel closed before the broker confirmed");

            publisher.publish("", queue, Map.of(), "kept".getBytes(StandardCharsets.UTF_8)).get(10, TimeUnit.SECONDS);
        }
        assertThat(channel.messageCount(queue)).isEqualTo(1);
    }

    /**
     * A broker that stops answering (as one in the middle of {@code rabbitmqctl stop_app} can) fails
     * the publish within the confirm timeout instead of leaving its caller waiting; once it answers
     * again the next publish goes through on a fresh channel.
     */
    @ParameterizedTest(name = "nio={0}")
    @ValueSource(booleans = {false, true})
    void aBrokerThatStopsAnsweringFailsThePublishWithinTheConfirmTimeout(boolean nio) throws Exception {
        mode(nio);
        try (TcpProxy link = new TcpProxy(EmbeddedProfileTest.freePort(), 5672)) {
            ConnectionFactory viaLink = factory.clone();
            viaLink.setPort(link.port());
            try (ConfirmedPublisher publisher = new ConfirmedPublisher(viaLink, 1, Duration.ofSeconds(1))) {
                publisher.publish("", queue, Map.of(), "before".getBytes(StandardCharsets.UTF_8)).get(10, TimeUnit.SECONDS);

                link.stall();
                long start = System.nanoTime();
                CompletableFuture<Void> unanswered = publisher.publish("", queue, Map.of(), "during".getBytes(StandardCharsets.UTF_8));
                assertThatThrownBy(() -> unanswered.get(10, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class)
                        .hasCauseInstanceOf(TimeoutException.class);
                assertThat(Duration.ofNanos(System.nanoTime() - start)).as("failed within the confirm timeout")
                        .isLessThan(Duration.ofSeconds(3));

                link.resume();
                publisher.publish("", queue, Map.of(), "after".getBytes(StandardCharsets.UTF_8)).get(10, TimeUnit.SECONDS);
            }
        }
        // "during" may or may not have reached the queue: its publisher was told it is not known to be sent
        List<String> bodies = new ArrayList<>();
        GetResponse message;
        while ((message = channel.basicGet(queue, true)) != null) {
            bodies.add(new String(message.getBody(), StandardCharsets.UTF_8));
        }
        assertThat(bodies).startsWith("before").endsWith("after");
    }

    /** A broker that accepts the connection and never answers the handshake: the publish fails, bounded. */
    @ParameterizedTest(name = "nio={0}")
    @ValueSource(booleans = {false, true})
    void aBrokerThatNeverAnswersTheHandshakeFailsThePublishInBoundedTime(boolean nio) throws Exception {
        mode(nio);
        try (TcpProxy link = new TcpProxy(EmbeddedProfileTest.freePort(), 5672)) {
            link.stall();
            ConnectionFactory viaLink = factory.clone();
            viaLink.setPort(link.port());
            try (ConfirmedPublisher publisher = new ConfirmedPublisher(viaLink, 1, Duration.ofSeconds(1))) {
                long start = System.nanoTime();
                CompletableFuture<Void> unanswered = publisher.publish("", queue, Map.of(), "m".getBytes(StandardCharsets.UTF_8));
                assertThatThrownBy(() -> unanswered.get(10, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class);
                assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(4));
            }
        }
    }
}
