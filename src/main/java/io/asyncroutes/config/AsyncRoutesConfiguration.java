package io.asyncroutes.config;

import io.asyncroutes.api.ApiRoutes;
import io.asyncroutes.chat.ChatRoutes;
import io.asyncroutes.chat.LlmClient;
import io.asyncroutes.cleanup.CleanupTask;
import io.asyncroutes.fetch.FetchRoutes;
import io.asyncroutes.fetch.HttpRetryConfiguration;
import io.asyncroutes.intake.InboundAcknowledgement;
import io.asyncroutes.intake.MessageValidator;
import io.asyncroutes.ordering.KeyedResequencer;
import io.asyncroutes.ordering.OrderingRoutes;
import io.asyncroutes.ordering.SeqStore;
import io.asyncroutes.persistence.PersistRoutes;
import io.asyncroutes.pipeline.HandleRoutes;
import io.asyncroutes.settings.AppSettings;
import io.asyncroutes.state.ThreadHistory;
import io.asyncroutes.support.ContextLifecycleNotifier;
import io.asyncroutes.support.SharedRouteConfigurations;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.apache.camel.spi.EventNotifier;
import org.apache.camel.spi.IdempotentRepository;
import org.apache.camel.spring.boot.CamelSpringBootApplicationListener;
import org.apache.camel.support.EventHelper;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.Import;

/**
 * The thin Spring layer: hands plain objects, built from the validated {@link AppSettings}
 * ({@link SettingsConfiguration}), to the route builders, which carry no Spring annotation and so
 * load unchanged in camel-main and Karaf.
 */
@Configuration(proxyBeanMethods = false)
@Import(SettingsConfiguration.class)
public class AsyncRoutesConfiguration {

    /**
     * The Spring Boot starter runs {@code CamelContextConfiguration.afterApplicationStart} (the
     * OpenAPI starter has one) from an event notifier that does not say it ignores exchange events,
     * so for the application's whole life Camel builds an event object at every step of every
     * exchange for it (sending, sent, created, completed) and times every send. Once the context has
     * started, that notifier's work is done: it is told to ignore exchange events and Camel checks
     * again whether any notifier wants them (none of the application's does).
     */
    @Bean
    public ContextLifecycleNotifier exchangeEventsOffOnceStarted() {
        return new ContextLifecycleNotifier(camel -> {
            for (EventNotifier notifier : camel.getManagementStrategy().getEventNotifiers()) {
                if (notifier.getClass().getEnclosingClass() == CamelSpringBootApplicationListener.class) {
                    notifier.setIgnoreExchangeEvents(true);
                }
            }
            camel.getCamelContextExtension().setEventNotificationApplicable(EventHelper.eventsApplicable(camel));
        }, camel -> { });
    }

    @Bean
    public MessageValidator messageValidator(AppSettings settings) {
        return new MessageValidator(settings.getLimits());
    }

    /** Acknowledges each consumed broker message when its exchange completes (intake and persist queues). */
    @Bean(PersistRoutes.ACKNOWLEDGEMENT)
    public InboundAcknowledgement brokerAcknowledgement(AppSettings settings) {
        return new InboundAcknowledgement(settings.getIntake().getRedeliveryDelay(),
                settings.getIntake().getRedeliveryMaxDelay());
    }

    @Bean
    public SharedRouteConfigurations sharedRouteConfigurations(AppSettings settings) {
        return new SharedRouteConfigurations(settings.getPersistence().getRetryInitialDelay(),
                settings.getPersistence().getRetryMaxDelay());
    }

    @Bean
    public HttpRetryConfiguration httpRetryConfiguration(AppSettings settings) {
        return new HttpRetryConfiguration(settings.getRetry());
    }

    @Bean
    public HandleRoutes handleRoutes(MessageValidator validator, IdempotentRepository messageIdRepository,
                                     AppSettings settings) {
        return new HandleRoutes(validator, messageIdRepository, settings);
    }

    /** The per-thread ordering gate; {@code evictIdle(Instant)} is for the periodic cleanup. */
    @Bean
    public KeyedResequencer keyedResequencer(AppSettings settings, SeqStore orderingSeqStore,
                                             ObjectProvider<MeterRegistry> meters) {
        KeyedResequencer gate = OrderingRoutes.forMessageResults(settings.getOrdering(), orderingSeqStore,
                meters.getIfAvailable(SimpleMeterRegistry::new));
        // a failed message comes back from the broker within the intake's longest redelivery delay:
        // its successors wait that long (plus a gap timeout) before they skip it
        gate.setRedeliveryHold(settings.getIntake().getRedeliveryMaxDelay().plus(settings.getOrdering().getGapTimeout()));
        return gate;
    }

    /** cleanup-expired evicts ordering state left idle (normally already gone when a thread's last turn ends). */
    @Bean
    public CleanupTask idleOrderingState(KeyedResequencer keyedResequencer) {
        return new CleanupTask() {
            @Override
            public String name() {
                return "ordering-state";
            }

            @Override
            public long cleanup(java.time.Instant now) {
                return keyedResequencer.evictIdle(now);
            }
        };
    }

    @Bean
    public OrderingRoutes orderingRoutes(KeyedResequencer keyedResequencer) {
        return new OrderingRoutes(keyedResequencer);
    }

    @Bean
    public PersistRoutes persistRoutes(AppSettings settings) {
        return new PersistRoutes(settings);
    }

    @Bean
    public FetchRoutes fetchRoutes(AppSettings settings) {
        return new FetchRoutes(settings.getFetch());
    }

    @Bean
    public LlmClient llmClient(AppSettings settings) {
        return new LlmClient(settings.getLlm());
    }

    @Bean
    public ChatRoutes chatRoutes(LlmClient llmClient, ThreadHistory threadHistory) {
        return new ChatRoutes(llmClient, threadHistory);
    }

    @Bean
    public ApiRoutes apiRoutes(MessageValidator validator, AppSettings settings) {
        return new ApiRoutes(validator, settings);
    }
}
