package io.asyncroutes.config;

import io.asyncroutes.broker.ConfirmedPublisher;
import io.asyncroutes.broker.ConfirmedRabbitComponent;
import io.asyncroutes.broker.NioConnections;
import io.asyncroutes.settings.AppSettings;
import java.util.List;
import org.springframework.amqp.core.BindingBuilder;
import org.springframework.amqp.core.Declarables;
import org.springframework.amqp.core.DirectExchange;
import org.springframework.amqp.core.Queue;
import org.springframework.amqp.core.QueueBuilder;
import org.springframework.amqp.rabbit.connection.CachingConnectionFactory;
import org.springframework.boot.autoconfigure.amqp.ConnectionFactoryCustomizer;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * RabbitMQ publishing of the {@code services} profile: the Camel component
 * {@value #COMPONENT} ({@link ConfirmedRabbitComponent}) that the inbound, persist and results
 * publish endpoints name, over a {@link ConfirmedPublisher} with its own connection, configured
 * like Spring Boot's ({@code spring.rabbitmq.*}). Also declares the results and dead-letter queues,
 * which no consumer of ours declares.
 */
@Configuration(proxyBeanMethods = false)
@ConditionalOnProperty(name = "app.rabbitmq.inbound-queues")
public class RabbitPublisherConfiguration {

    /** Component name used in the publish URIs. */
    public static final String COMPONENT = "rabbit-confirmed";

    /**
     * Spring Boot's RabbitMQ connection factory, and so the consumers' connection and the publisher's
     * (a clone of it), in the client's NIO mode when {@code app.rabbitmq.nio} ({@link NioConnections}).
     */
    @Bean
    public ConnectionFactoryCustomizer rabbitNioConnections(AppSettings settings) {
        return factory -> {
            if (settings.getRabbitmq().isNio()) {
                NioConnections.apply(factory, settings.getRabbitmq().getConfirmTimeout());
            }
        };
    }

    @Bean(COMPONENT)
    public ConfirmedRabbitComponent confirmedRabbitComponent(CachingConnectionFactory rabbitConnectionFactory, AppSettings settings) {
        AppSettings.Rabbitmq rabbitmq = settings.getRabbitmq();
        return new ConfirmedRabbitComponent(new ConfirmedPublisher(rabbitConnectionFactory.getRabbitConnectionFactory(),
                rabbitmq.getPublisherChannels(), rabbitmq.getConfirmTimeout()));
    }

    /**
     * The results and dead-letter queues on the direct exchange {@code app.rabbitmq.exchange}, bound
     * by their own names. Durable: what is on them survives a broker restart. The results queue is
     * bounded ({@code app.results.ttl-millis}, {@code app.results.max-length}); dead letters wait
     * for someone to look at them.
     */
    @Bean
    public Declarables resultAndDeadLetterQueues(AppSettings settings, ClassicQueueArguments classicQueueArguments) {
        DirectExchange exchange = new DirectExchange(settings.getRabbitmq().getExchange(), true, false);
        String prefix = settings.getRabbitmq().getPrefix();
        // bounded like the Artemis results queue: an unread results queue never fills the broker's disk
        List<Queue> queues = classicQueueArguments.apply(List.of(
                QueueBuilder.durable(prefix + ".results")
                        .ttl(Math.toIntExact(settings.getResults().getTtlMillis())) // validated to fit an int
                        .maxLength(settings.getResults().getMaxLength())
                        .build(),
                QueueBuilder.durable(prefix + ".dead-letter").build()));
        Queue results = queues.get(0);
        Queue deadLetter = queues.get(1);
        return new Declarables(exchange, results, deadLetter,
                BindingBuilder.bind(results).to(exchange).with(results.getName()),
                BindingBuilder.bind(deadLetter).to(exchange).with(deadLetter.getName()));
    }
}
