package io.asyncroutes.config;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.springframework.amqp.core.Binding;
import org.springframework.amqp.core.BindingBuilder;
import org.springframework.amqp.core.CustomExchange;
import org.springframework.amqp.core.Declarable;
import org.springframework.amqp.core.Declarables;
import org.springframework.amqp.core.Queue;
import org.springframework.amqp.core.QueueBuilder;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.env.Environment;

/**
 * RabbitMQ inbound topology of the {@code services} profile (SPEC §4 Ordering): a consistent-hash
 * exchange {@code <app.rabbitmq.exchange>.in} spreads thread ids over the
 * {@code app.rabbitmq.inbound-queues}, each a single-active-consumer queue. A thread id always
 * lands on the same queue, and that queue has one active consumer across all instances, so several
 * instances keep per-thread order the way Artemis message groups do. Spring AMQP's admin declares
 * it all when the connection opens, before Camel's consumers subscribe.
 */
@Configuration(proxyBeanMethods = false)
@ConditionalOnProperty(name = "app.rabbitmq.inbound-queues")
public class RabbitPartitionsConfiguration {

    /** Each queue gets the same weight on the hash ring. */
    static final String WEIGHT = "1";

    @Bean
    public Declarables inboundPartitions(Environment env) {
        CustomExchange ring = new CustomExchange(env.getRequiredProperty("app.rabbitmq.exchange") + ".in",
                "x-consistent-hash", true, false);
        List<Declarable> declarables = new ArrayList<>();
        declarables.add(ring);
        for (String name : Arrays.stream(env.getRequiredProperty("app.rabbitmq.inbound-queues").split(","))
                .map(String::trim).filter(n -> !n.isEmpty()).toList()) {
            Queue queue = QueueBuilder.durable(name).singleActiveConsumer().build();
            Binding binding = BindingBuilder.bind(queue).to(ring).with(WEIGHT).noargs();
            declarables.add(queue);
            declarables.add(binding);
        }
        return new Declarables(declarables);
    }
}
