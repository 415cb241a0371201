package io.asyncroutes.config;

import jakarta.jms.ConnectionFactory;
import org.apache.activemq.artemis.core.settings.impl.AddressSettings;
import org.apache.camel.component.jms.JmsComponent;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.autoconfigure.jms.artemis.ArtemisConfigurationCustomizer;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.jms.connection.JmsTransactionManager;

/**
 * JMS (ActiveMQ Artemis) wiring, used by the default profile's embedded broker and by an external
 * Artemis alike. The Camel {@code jms} component gets its own JMS transaction manager: consumers
 * run transacted, so a message is acknowledged only when its route completes, and sends made on
 * the consumer's thread (the results) commit in the same transaction.
 */
@Configuration(proxyBeanMethods = false)
@ConditionalOnProperty(name = "app.jms.enabled", havingValue = "true", matchIfMissing = true)
public class JmsBrokerConfiguration {

    @Bean("jms")
    public JmsComponent jms(ConnectionFactory connectionFactory) {
        JmsComponent jms = JmsComponent.jmsComponentTransacted(connectionFactory, new JmsTransactionManager(connectionFactory));
        // a transacted DMLC must keep its consumer to keep message-group affinity and throughput
        jms.getConfiguration().setCacheLevelName("CACHE_CONSUMER");
        return jms;
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
