package io.asyncroutes.broker;

import org.apache.camel.component.springrabbit.DefaultListenerContainerFactory;
import org.apache.camel.component.springrabbit.SpringRabbitMQEndpoint;
import org.springframework.amqp.rabbit.listener.AbstractMessageListenerContainer;

/**
 * The {@code spring-rabbitmq} consumers' listener containers, configured as camel-spring-rabbitmq
 * configures them but without its Spring Retry advice.
 *
 * <p>camel-spring-rabbitmq always wraps the message listener in a retry interceptor (5 attempts,
 * 1 s apart, then reject without requeue, by default). Our intake and persist consumers are
 * asynchronous, acknowledge manually, and settle every delivery themselves when its exchange
 * completes ({@code intake.InboundAcknowledgement}: ack, or nack back onto the queue after a
 * growing delay); the error handling lives in the routes. The interceptor would only ever act on an
 * exchange that fails on the consumer's own thread, and then by running the same delivery through
 * the route again while the consumer sleeps between attempts, a second exchange for a delivery whose
 * first one has already settled it. And it costs an AOP proxy, a retry context and a reflective
 * call on every delivery.
 */
public class ListenerContainersWithoutRetry extends DefaultListenerContainerFactory {

    @Override
    public AbstractMessageListenerContainer createListenerContainer(SpringRabbitMQEndpoint endpoint) {
        AbstractMessageListenerContainer container = super.createListenerContainer(endpoint);
        container.setAdviceChain(); // none: the listener is called directly, once per delivery
        return container;
    }
}
