package io.asyncroutes.config;

import jakarta.jms.ConnectionFactory;
import jakarta.jms.Session;
import org.apache.activemq.artemis.api.jms.ActiveMQJMSConstants;
import org.apache.camel.component.jms.ConsumerType;
import org.apache.camel.component.jms.DefaultJmsMessageListenerContainer;
import org.apache.camel.component.jms.JmsEndpoint;
import org.apache.activemq.artemis.core.settings.impl.AddressSettings;
import org.apache.camel.component.jms.JmsComponent;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.autoconfigure.jms.artemis.ArtemisConfigurationCustomizer;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * JMS (ActiveMQ Artemis) wiring, used by the default profile's embedded broker and by an external
 * Artemis alike. Consumers are asynchronous and acknowledge each message individually when its
 * exchange completes (Artemis {@code INDIVIDUAL_ACKNOWLEDGE}), so a consumer keeps reading while
 * earlier messages are still being handled, and nothing is acknowledged before it is done.
 */
@Configuration(proxyBeanMethods = false)
@ConditionalOnProperty(name = "app.jms.enabled", havingValue = "true", matchIfMissing = true)
public class JmsBrokerConfiguration {

    @Bean("jms")
    public JmsComponent jms(ConnectionFactory connectionFactory) {
        return individualAcknowledge(connectionFactory);
    }

    /** The {@code jms} component as the application uses it; also for tests that build their own contexts. */
    public static JmsComponent individualAcknowledge(ConnectionFactory connectionFactory) {
        JmsComponent jms = JmsComponent.jmsComponent(connectionFactory);
        // each consumed message is acknowledged on its own when its exchange completes
        // (intake/InboundAcknowledgement); sends are plain durable sends, confirmed by the broker
        jms.getConfiguration().setAcknowledgementMode(ActiveMQJMSConstants.INDIVIDUAL_ACKNOWLEDGE);
        jms.getConfiguration().setConsumerType(ConsumerType.Custom);
        jms.getConfiguration().setMessageListenerContainerFactory(IndividualAckContainer::new);
        // consumers keep their session: message-group affinity, and the acknowledgements go to it
        jms.getConfiguration().setCacheLevelName("CACHE_CONSUMER");
        return jms;
    }

    /**
     * Spring acknowledges a client-acknowledge session's message as soon as the listener returns, and
     * recovers the whole session when it throws. With asynchronous consumers both are wrong: the
     * exchange is still running. This container leaves every acknowledgement to the exchange.
     */
    static final class IndividualAckContainer extends DefaultJmsMessageListenerContainer {
        IndividualAckContainer(JmsEndpoint endpoint) {
            super(endpoint);
        }

        @Override
        protected boolean isClientAcknowledge(Session session) {
            return false;
        }
    }

    /**
     * Broker-side redelivery for rolled-back messages (a dependency was down): capped exponential
     * delay, never dead-lettered by the broker (the routes dead-letter what can never succeed, with
     * the reason).
     */
    @Bean
    public ArtemisConfigurationCustomizer redeliveryPolicy() {
        return configuration -> configuration.addAddressSetting("ar.#", new AddressSettings()
                .setRedeliveryDelay(500)
                .setRedeliveryMultiplier(2.0)
                .setMaxRedeliveryDelay(30_000)
                .setMaxDeliveryAttempts(-1)
                .setAutoCreateQueues(true)
                .setAutoCreateAddresses(true));
    }
}
