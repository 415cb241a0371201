package io.asyncroutes.config;

import io.asyncroutes.settings.AppSettings;
import jakarta.jms.ConnectionFactory;
import jakarta.jms.Session;
import java.util.Optional;
import org.springframework.jms.connection.CachingConnectionFactory;
import org.apache.activemq.artemis.api.jms.ActiveMQJMSConstants;
import org.apache.activemq.artemis.jms.client.ActiveMQConnectionFactory;
import org.apache.camel.component.jms.ConsumerType;
import org.apache.camel.component.jms.DefaultJmsMessageListenerContainer;
import org.apache.camel.component.jms.JmsEndpoint;
import org.apache.camel.component.jms.MessageListenerContainerFactory;
import org.apache.activemq.artemis.core.settings.impl.AddressFullMessagePolicy;
import org.apache.activemq.artemis.core.settings.impl.AddressSettings;
import org.apache.activemq.artemis.core.settings.impl.PageFullMessagePolicy;
import org.apache.camel.component.jms.JmsComponent;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
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

    private static final Logger LOG = LoggerFactory.getLogger(JmsBrokerConfiguration.class);

    @Bean("jms")
    public JmsComponent jms(ConnectionFactory connectionFactory) {
        return individualAcknowledge(connectionFactory);
    }

    /**
     * The listener containers of the asynchronous consumers, named in their URIs
     * ({@code consumerType=Custom&messageListenerContainerFactory=#individualAcknowledge}): the URI
     * is where an endpoint option survives the Camel starter's component defaults.
     */
    @Bean(CONTAINER_FACTORY)
    public MessageListenerContainerFactory individualAcknowledgeContainers() {
        return IndividualAckContainer::new;
    }

    public static final String CONTAINER_FACTORY = "individualAcknowledge";

    /** The {@code jms} component as the application uses it; also for tests that build their own contexts. */
    public static JmsComponent individualAcknowledge(ConnectionFactory connectionFactory) {
        JmsComponent jms = JmsComponent.jmsComponent(connectionFactory);
        ConnectionFactory target = connectionFactory;
        // consumers on the broker's own factory: a cached session (Spring's CachingConnectionFactory,
        // good for the many sending threads) is not in the vendor acknowledge mode asked for
        if (connectionFactory instanceof CachingConnectionFactory caching && caching.getTargetConnectionFactory() != null) {
            target = caching.getTargetConnectionFactory();
            jms.getConfiguration().setListenerConnectionFactory(target);
        }
        cacheDestinations(target);
        jms.getConfiguration().setConsumerType(ConsumerType.Custom);
        jms.getConfiguration().setMessageListenerContainerFactory(IndividualAckContainer::new);
        // consumers keep their session: message-group affinity, and the acknowledgements go to it
        jms.getConfiguration().setCacheLevelName("CACHE_CONSUMER");
        return jms;
    }

    /**
     * Each send names its queue, and Artemis's {@code Session.createQueue} asks the broker whether the
     * queue exists, a round trip per message sent (2 % of the embedded default's CPU under REST load,
     * and a wait on the sender's thread) unless the session keeps what it looked up. The pipeline
     * sends to a handful of fixed queues, so the cache stays that small.
     */
    static void cacheDestinations(ConnectionFactory connectionFactory) {
        if (connectionFactory instanceof ActiveMQConnectionFactory artemis && !artemis.isCacheDestinations()) {
            try {
                artemis.setCacheDestinations(true);
            } catch (IllegalStateException alreadyUsed) {
                // Artemis freezes a factory's settings once it has made a connection: it works as before
                LOG.warn("JMS sessions look their queues up on every send: the Artemis connection factory was used"
                        + " before the jms component was set up ({})", alreadyUsed.getMessage());
            }
        }
    }

    /**
     * Each consumed message is acknowledged on its own when its exchange completes
     * (intake/InboundAcknowledgement): the session is in Artemis's {@code INDIVIDUAL_ACKNOWLEDGE}
     * mode whatever the endpoint says, and Spring's own handling is off. Spring would acknowledge a
     * client-acknowledge session's message as soon as the listener returns, and recover the whole
     * session when it throws; with asynchronous consumers both are wrong, the exchange still runs.
     */
    static final class IndividualAckContainer extends DefaultJmsMessageListenerContainer {
        IndividualAckContainer(JmsEndpoint endpoint) {
            super(endpoint);
            super.setSessionTransacted(false);
            super.setSessionAcknowledgeMode(ActiveMQJMSConstants.INDIVIDUAL_ACKNOWLEDGE);
            super.setExposeListenerSession(true);
        }

        @Override
        public void setExposeListenerSession(boolean expose) {
            // always the consumer's own session: otherwise Spring opens a new connection per message
        }

        @Override
        public void setSessionAcknowledgeMode(int mode) {
            // fixed in the constructor
        }

        @Override
        public void setSessionAcknowledgeModeName(String name) {
            // fixed in the constructor
        }

        @Override
        public void setSessionTransacted(boolean transacted) {
            // never: each message is settled on its own
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

    /**
     * The embedded broker's results queue is read by whoever wants the results, maybe nobody: its
     * backlog gets a memory limit of its own ({@code app.results.max-memory-mb}), beyond which it
     * pages to disk alone, and paging stops at {@code app.results.max-length} results (the newest
     * dropped, as Artemis cannot drop the oldest of a paged queue). Without them an unread backlog
     * grew until the broker's global limit (half the heap) put every address into paging, the
     * inbound and persist queues too: under steady REST load the embedded default then stored half
     * as much after six minutes, with the collector busy on a heap full of unread results.
     */
    @Bean
    public ArtemisConfigurationCustomizer resultsQueueLimits(AppSettings settings) {
        AppSettings.Results results = settings.getResults();
        return configuration -> queueName(settings.getEndpoints().getResults()).ifPresent(name ->
                configuration.addAddressSetting(name, new AddressSettings()
                        .setMaxSizeBytes(results.getMaxMemoryMb() * 1024L * 1024L)
                        .setAddressFullMessagePolicy(AddressFullMessagePolicy.PAGE)
                        .setPageLimitMessages((long) results.getMaxLength())
                        .setPageFullMessagePolicy(PageFullMessagePolicy.DROP)));
    }

    /** The queue a {@code jms:queue:NAME?options} (or {@code jms:NAME}) URI names; empty for another component. */
    static Optional<String> queueName(String uri) {
        if (uri == null || !uri.startsWith("jms:")) {
            return Optional.empty();
        }
        String name = uri.substring("jms:".length());
        name = name.startsWith("queue:") ? name.substring("queue:".length()) : name;
        int options = name.indexOf('?');
        name = options < 0 ? name : name.substring(0, options);
        return name.isBlank() || name.startsWith("topic:") ? Optional.empty() : Optional.of(name);
    }
}
