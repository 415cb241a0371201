package io.asyncroutes.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import io.asyncroutes.broker.ConfirmedPublisher;
import io.asyncroutes.broker.ConfirmedRabbitComponent;
import io.asyncroutes.message.ExchangeProperties;
import io.asyncroutes.persistence.HandoffException;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.camel.Exchange;
import org.apache.camel.ProducerTemplate;
import org.apache.camel.builder.RouteBuilder;
import org.apache.camel.impl.DefaultCamelContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * publish-result's last step on this machine's RabbitMQ: the result's confirm by the results queue
 * and its persistence hand-off are awaited together, and the exchange resumes once.
 */
class AwaitHandoffTest {

    private final ConnectionFactory factory = new ConnectionFactory();
    private Connection admin;
    private Channel channel;
    private String queue;
    private ConfirmedPublisher publisher;
    private DefaultCamelContext camel;
    private ProducerTemplate template;
    private final CompletableFuture<Void> handoff = new CompletableFuture<>();

    @BeforeEach
    void start() throws Exception {
        factory.setHost("127.0.0.1");
        admin = factory.newConnection();
        channel = admin.createChannel();
        queue = "ar-await-test-" + UUID.randomUUID();
        channel.queueDeclare(queue, true, false, true, null);
        publisher = new ConfirmedPublisher(factory, 1, Duration.ofSeconds(10));
        camel = new DefaultCamelContext();
        camel.addComponent("rabbit-confirmed", new ConfirmedRabbitComponent(publisher));
        camel.addRoutes(new RouteBuilder() {
            @Override
            public void configure() {
                // the shape of publish-result's stored branch
                from("direct:publish").routeId("publish")
                        .errorHandler(noErrorHandler())
                        .process(exchange -> exchange.setProperty(ExchangeProperties.HANDOFF, handoff))
                        .setProperty(ExchangeProperties.DEFER_CONFIRM, constant(true))
                        .toD("rabbit-confirmed:${header.target}?routingKey=" + queue)
                        .removeProperty(ExchangeProperties.DEFER_CONFIRM)
                        .process(new AwaitHandoff(getContext(), Duration.ofMillis(500)))
                        .process(exchange -> exchange.setProperty("resumedOn", Thread.currentThread().getName()));
            }
        });
        camel.start();
        template = camel.createProducerTemplate();
    }

    @AfterEach
    void stop() throws Exception {
        camel.stop();
        publisher.close();
        channel.queueDelete(queue);
        admin.close();
    }

    private CompletableFuture<Exchange> publish(String exchangeName) {
        return template.asyncSend("direct:publish", e -> {
            e.getMessage().setHeader("target", exchangeName);
            e.getMessage().setBody("{\"id\":\"m1\"}");
        });
    }

    @Test
    void theExchangeWaitsForTheHandoffAfterTheConfirmAndResumesOnceOnTheContinuationPool() throws Exception {
        CompletableFuture<Exchange> sent = publish("");
        await().atMost(Duration.ofSeconds(10)).until(() -> channel.messageCount(queue) == 1);
        // the result is on the queue and confirmed, but its hand-off is not durable yet
        await().during(Duration.ofMillis(300)).atMost(Duration.ofSeconds(2)).until(() -> !sent.isDone());

        handoff.complete(null);
        Exchange done = sent.get(10, TimeUnit.SECONDS);
        assertThat(done.getException()).isNull();
        assertThat(done.getProperty("resumedOn", String.class)).contains("ar-handoff-continuations");
        assertThat(done.getProperty(ExchangeProperties.PUBLISH_CONFIRM)).isNull();
    }

    @Test
    void aResultTheResultsQueueRefusesFailsTheExchangeWithThePublishersError() throws Exception {
        handoff.complete(null);
        Exchange done = publish("ar-no-such-exchange-" + UUID.randomUUID()).get(20, TimeUnit.SECONDS);
        assertThat(done.getException()).isNotNull().isNotInstanceOf(HandoffException.class)
                .hasMessageContaining("channel closed before the broker confirmed");
    }

    @Test
    void aHandoffNotDurableInTimeFailsTheExchangeThoughTheResultWasConfirmed() throws Exception {
        Exchange done = publish("").get(20, TimeUnit.SECONDS);
        assertThat(channel.messageCount(queue)).isEqualTo(1);
        assertThat(done.getException()).isInstanceOf(HandoffException.class)
                .hasMessageContaining("not confirmed within 500 ms");
    }
}
