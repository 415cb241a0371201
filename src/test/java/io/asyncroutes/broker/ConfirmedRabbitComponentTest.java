package io.asyncroutes.broker;

import static org.assertj.core.api.Assertions.assertThat;

import com.rabbitmq.client.GetResponse;
import io.asyncroutes.support.VirtualThreads;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;
import org.apache.camel.Exchange;
import org.apache.camel.ProducerTemplate;
import org.apache.camel.builder.RouteBuilder;
import org.apache.camel.impl.DefaultCamelContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The send-only component against this machine's RabbitMQ: where an exchange goes on once the
 * broker has confirmed its message.
 */
class ConfirmedRabbitComponentTest {

    private TestQueue queue;
    private DefaultCamelContext camel;
    private ProducerTemplate template;

    @BeforeEach
    void start() throws Exception {
        queue = new TestQueue("ar-component-test-");
        camel = new DefaultCamelContext();
        camel.addComponent("confirmed", new ConfirmedRabbitComponent(new ConfirmedPublisher(queue.factory, 2, Duration.ofSeconds(10))));
        camel.addRoutes(new RouteBuilder() {
            @Override
            public void configure() {
                from("direct:publish")
                        .process(e -> e.setProperty("before", Thread.currentThread().getName()))
                        .to("confirmed:?routingKey=" + queue.name)
                        .process(e -> e.setProperty("after", Thread.currentThread().getName()));
                from("direct:transient").to("confirmed:?routingKey=" + queue.name + "&persistent=false");
            }
        });
        camel.start();
        template = camel.createProducerTemplate();
    }

    @AfterEach
    void stop() throws Exception {
        camel.stop();
        queue.close();
    }

    /** Persistent by default; an endpoint with persistent=false publishes in delivery mode 1 (memory only). */
    @Test
    void messagesArePersistentUnlessTheEndpointSaysOtherwise() throws Exception {
        assertThat(template.send("direct:publish", e -> e.getMessage().setBody("{\"n\":1}")).getException()).isNull();
        assertThat(template.send("direct:transient", e -> e.getMessage().setBody("{\"n\":2}")).getException()).isNull();

        GetResponse first = queue.channel.basicGet(queue.name, true);
        GetResponse second = queue.channel.basicGet(queue.name, true);
        assertThat(new String(first.getBody(), StandardCharsets.UTF_8)).isEqualTo("{\"n\":1}");
        assertThat(first.getProps().getDeliveryMode()).isEqualTo(2);
        assertThat(new String(second.getBody(), StandardCharsets.UTF_8)).isEqualTo("{\"n\":2}");
        assertThat(second.getProps().getDeliveryMode()).isEqualTo(1);
    }

    @Test
    void onAPlatformThreadTheExchangeGoesOnOnTheComponentsPoolOnceConfirmed() throws Exception {
        Exchange sent = template.send("direct:publish", e -> e.getMessage().setBody("{\"n\":1}"));

        assertThat(sent.getException()).isNull();
        assertThat(sent.getProperty("after", String.class)).contains("ar-confirmed")
                .isNotEqualTo(sent.getProperty("before", String.class));
        assertThat(queue.channel.messageCount(queue.name)).isEqualTo(1);
    }

    @Test
    void onAVirtualThreadTheExchangeWaitsForTheConfirmAndGoesOnOnTheSameThread() throws Exception {
        if (!VirtualThreads.supported()) {
            return; // JDK 17: no virtual threads, the platform-thread case above is the whole story
        }
        ExecutorService virtual = VirtualThreads.perTaskExecutor("ar-test-sender");
        try {
            Exchange sent = CompletableFuture.supplyAsync(
                    () -> template.send("direct:publish", e -> e.getMessage().setBody("{\"n\":2}")), virtual)
                    .get(30, TimeUnit.SECONDS);

            assertThat(sent.getException()).isNull();
            assertThat(sent.getProperty("before", String.class)).startsWith("ar-test-sender-");
            assertThat(sent.getProperty("after", String.class)).isEqualTo(sent.getProperty("before", String.class));
            assertThat(queue.channel.messageCount(queue.name)).isEqualTo(1);
        } finally {
            virtual.shutdown();
        }
    }

    @Test
    void onAVirtualThreadAMessageNoQueueTakesFailsTheExchange() throws Exception {
        if (!VirtualThreads.supported()) {
            return;
        }
        ExecutorService virtual = VirtualThreads.perTaskExecutor("ar-test-sender");
        try {
            Exchange sent = CompletableFuture.supplyAsync(() -> template.send("confirmed:?routingKey=no-such-queue-" + queue,
                    e -> e.getMessage().setBody("{\"n\":3}")), virtual).get(30, TimeUnit.SECONDS);

            assertThat(sent.getException()).hasMessageContaining("no queue took the message");
        } finally {
            virtual.shutdown();
        }
    }
}
