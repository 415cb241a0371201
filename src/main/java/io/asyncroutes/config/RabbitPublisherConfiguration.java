package io.asyncroutes.config;

import io.asyncroutes.broker.ConfirmedPublisher;
import io.asyncroutes.broker.ConfirmedRabbitComponent;
import java.time.Duration;
import org.springframework.amqp.core.BindingBuilder;
import org.springframework.amqp.core.Declarables;
import org.springframework.amqp.core.DirectExchange;
import org.springframework.amqp.core.Queue;
import org.springframework.amqp.core.QueueBuilder;
import org.springframework.amqp.rabbit.connection.CachingConnectionFactory;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.env.Environment;

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

    @Bean(COMPONENT)
    public ConfirmedRabbitComponent confirmedRabbitComponent(CachingConnectionFactory rabbitConnectionFactory, Environment env) {
        int channels = env.getProperty("app.rabbitmq.publisher-channels", Integer.class, 4);
        Duration confirmTimeout = env.getProperty("app.rabbitmq.confirm-timeout", Duration.class, Duration.ofSeconds(5));
        return new ConfirmedRabbitComponent(new ConfirmedPublisher(rabbitConnectionFactory.getRabbitConnectionFactory(),
                channels, confirmTimeout));
    }

    /**
     * The results and dead-letter queues on the direct exchange {@code app.rabbitmq.exchange}, bound
     * by their own names. Durable: what is on them survives a broker restart. The results queue is
     * bounded ({@code app.results.ttl-millis}, {@code app.results.max-length}); dead letters wait
     * for someone to look at them.
     */
    @Bean
    public Declarables resultAndDeadLetterQueues(Environment env) {
        DirectExchange exchange = new DirectExchange(env.getRequiredProperty("app.rabbitmq.exchange"), true, false);
        String prefix = env.getRequiredProperty("app.rabbitmq.prefix");
        // bounded like the Artemis results queue: an unread results queue never fills the broker's disk
        Queue results = QueueBuilder.durable(prefix + ".results")
                .ttl(env.getRequiredProperty("app.results.ttl-millis", Integer.class))
                .maxLength(env.getRequiredProperty("app.results.max-length", Integer.class))
                .build();
        Queue deadLetter = QueueBuilder.durable(prefix + ".dead-letter").build();
        return new Declarables(exchange, results, deadLetter,
                BindingBuilder.bind(results).to(exchange).with(results.getName()),
                BindingBuilder.bind(deadLetter).to(exchange).with(deadLetter.getName()));
    }
}
