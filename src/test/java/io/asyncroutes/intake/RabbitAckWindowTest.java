package io.asyncroutes.intake;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import com.rabbitmq.client.DefaultConsumer;
import com.rabbitmq.client.Envelope;
import io.asyncroutes.intake.InboundAcknowledgement.RabbitAckWindow;
import java.lang.reflect.Proxy;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Coalesced acknowledgements against this machine's RabbitMQ: every delivery settled exactly once
 * (a double or unknown ack would close the channel), none left unacknowledged (what is, goes back to
 * the queue when the channel closes), fewer ack frames than messages when completions come out of order.
 */
class RabbitAckWindowTest {

    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();
    private Connection connection;
    private Channel consumerChannel;
    private String queue;
    private final AtomicInteger acks = new AtomicInteger();
    private final List<Long> delivered = new CopyOnWriteArrayList<>();

    @BeforeEach
    void connect() throws Exception {
        ConnectionFactory factory = new ConnectionFactory();
        factory.setHost("127.0.0.1");
        connection = factory.newConnection();
        queue = "ar-ackwindow-" + UUID.randomUUID();
        try (Channel admin = connection.createChannel()) {
            admin.queueDeclare(queue, false, false, false, null);
        }
        consumerChannel = connection.createChannel();
        consumerChannel.basicQos(2000);
    }

    @AfterEach
    void close() throws Exception {
        try (Channel admin = connection.createChannel()) {
            admin.queueDelete(queue);
        }
        connection.close();
        timer.shutdownNow();
    }

    /** The consumer channel, counting basicAck calls. */
    private Channel counting() {
        return (Channel) Proxy.newProxyInstance(Channel.class.getClassLoader(), new Class<?>[] {Channel.class},
                (proxy, method, args) -> {
                    if (method.getName().equals("basicAck")) {
                        acks.incrementAndGet();
                    }
                    return method.invoke(consumerChannel, args);
                });
    }

    private void publishAndConsume(int n) throws Exception {
        try (Channel publisher = connection.createChannel()) {
            for (int i = 0; i < n; i++) {
                publisher.basicPublish("", queue, null, ("m" + i).getBytes());
            }
        }
        consumerChannel.basicConsume(queue, false, new DefaultConsumer(consumerChannel) {
            @Override
            public void handleDelivery(String tag, Envelope envelope, AMQP.BasicProperties properties, byte[] body) {
                delivered.add(envelope.getDeliveryTag());
            }
        });
        await().atMost(Duration.ofSeconds(10)).until(() -> delivered.size() >= n);
    }

    /**
     * Messages left on the queue once the window's lingering acknowledgements are sent and the consumer's
     * channel is closed: the unacknowledged ones come back.
     */
    private int leftAfterClose(RabbitAckWindow window) throws Exception {
        await().atMost(Duration.ofSeconds(5)).until(() -> !window.lingering());
        consumerChannel.close();
        try (Channel admin = connection.createChannel()) {
            return admin.queueDeclarePassive(queue).getMessageCount();
        }
    }

    private static void schedule(ScheduledExecutorService timer, Runnable task, long millis) {
        timer.schedule(task, millis, TimeUnit.MILLISECONDS);
    }

    /** A window on the counting consumer channel, its flushes on this test's timer. */
    private RabbitAckWindow window() {
        return new RabbitAckWindow(counting(), (task, ms) -> schedule(timer, task, ms));
    }

    @Test
    void shuffledCompletionsAndHandedBackDeliveriesAreEachSettledOnceWithFewerAcks() throws Exception {
        int n = 1000;
        publishAndConsume(n);
        RabbitAckWindow window = window();
        List<Long> tags = new ArrayList<>(delivered.subList(0, n));
        // completions out of order within windows of 64, as parallel threads finish
        Random random = new Random(7);
        for (int i = 0; i < n; i += 64) {
            Collections.shuffle(tags.subList(i, Math.min(n, i + 64)), random);
        }
        List<Long> handedBack = new ArrayList<>();
        for (long tag : tags) {
            if (tag % 97 == 0) {
                window.handBack(tag); // a failed exchange: back onto the queue
                handedBack.add(tag);
            } else {
                window.completed(tag);
            }
        }
        // the handed-back messages come again, with new tags, and complete
        await().atMost(Duration.ofSeconds(10)).until(() -> delivered.size() >= n + handedBack.size());
        for (long tag : delivered.subList(n, n + handedBack.size())) {
            window.completed(tag);
        }
        await().atMost(Duration.ofSeconds(5)).until(() -> window.floor() == n + handedBack.size());
        assertThat(consumerChannel.isOpen()).as("no double or unknown ack closed the channel").isTrue();
        System.out.printf("%d ack frames for %d messages completed out of order%n", acks.get(), n + handedBack.size());
        assertThat(acks.get()).as("ack frames for %d messages", n).isLessThan(n / 2);
        assertThat(leftAfterClose(window)).as("nothing left unacknowledged").isZero();
    }

    /**
     * The low-rate pattern: deliveries settle one at a time, in order. Each used to be acknowledged on its
     * own; the run's multiple-ack now waits the linger, so one covers those that settled meanwhile.
     */
    @Test
    void deliveriesSettlingOneByOneInOrderShareTheirAcknowledgements() throws Exception {
        int n = 100;
        publishAndConsume(n);
        RabbitAckWindow window = window();
        for (long tag : delivered.subList(0, n)) {
            window.completed(tag);
        }
        assertThat(window.floor()).isEqualTo(n);
        await().atMost(Duration.ofSeconds(5)).until(() -> !window.lingering());
        assertThat(acks.get()).as("ack frames for %d deliveries settled within one linger", n).isEqualTo(1);
        assertThat(consumerChannel.isOpen()).isTrue();
        assertThat(leftAfterClose(window)).as("nothing left unacknowledged").isZero();
    }

    @Test
    void aDeliveryThatNeverSettlesHoldsUpTheOthersOnlyForTheLinger() throws Exception {
        int n = 200;
        publishAndConsume(n);
        RabbitAckWindow window = window();
        long stuck = delivered.get(10);
        for (long tag : delivered.subList(0, n)) {
            if (tag != stuck) {
                window.completed(tag);
            }
        }
        // the 189 behind the stuck one are acknowledged alone after the linger
        await().atMost(Duration.ofSeconds(5)).until(() -> acks.get() >= 1 + (n - 11));
        assertThat(window.floor()).isEqualTo(stuck - 1);
        // when it completes after all, it is acknowledged too, and nothing is acked twice
        window.completed(stuck);
        assertThat(window.floor()).isEqualTo(n);
        assertThat(consumerChannel.isOpen()).isTrue();
        assertThat(leftAfterClose(window)).isZero();
    }

    @Test
    void aDeliveryThatNeverSettlesIsLeftToTheBrokerAndTheRestAreAcknowledged() throws Exception {
        int n = 100;
        publishAndConsume(n);
        RabbitAckWindow window = window();
        for (long tag : delivered.subList(0, n)) {
            if (tag != 50) {
                window.completed(tag);
            }
        }
        await().atMost(Duration.ofSeconds(5)).until(() -> acks.get() >= 1 + 50);
        assertThat(consumerChannel.isOpen()).isTrue();
        assertThat(leftAfterClose(window)).as("only the unsettled one goes back").isEqualTo(1);
    }

    @Test
    void theFloorGoesOnWithoutATagThatDoesNotSettleInAWholeWindowAndStillSettlesItAlone() throws Exception {
        int n = 300;
        publishAndConsume(n);
        RabbitAckWindow window = new RabbitAckWindow(counting(), (task, ms) -> schedule(timer, task, ms), 50);
        long stuck = delivered.get(9);
        for (long tag : delivered.subList(0, n)) {
            if (tag != stuck) {
                window.completed(tag);
            }
        }
        assertThat(window.floor()).as("jumped over the unsettled tag").isEqualTo(n);
        // it is still in flight: the acks after the jump did not cover it
        window.handBack(stuck);
        await().atMost(Duration.ofSeconds(10)).until(() -> delivered.size() > n);
        window.completed(delivered.get(n));
        assertThat(consumerChannel.isOpen()).isTrue();
        assertThat(leftAfterClose(window)).isZero();
    }
}
