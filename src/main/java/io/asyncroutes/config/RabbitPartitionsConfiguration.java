package io.asyncroutes.config;

import com.rabbitmq.client.ShutdownSignalException;
import io.asyncroutes.broker.ListenerContainersWithoutRetry;
import io.asyncroutes.ordering.KeyedResequencer;
import io.asyncroutes.settings.AppSettings;
import java.util.ArrayList;
import java.util.List;
import org.apache.camel.component.springrabbit.SpringRabbitMQComponent;
import org.apache.camel.spi.ComponentCustomizer;
import org.springframework.amqp.core.Binding;
import org.springframework.amqp.core.BindingBuilder;
import org.springframework.amqp.core.CustomExchange;
import org.springframework.amqp.core.Declarable;
import org.springframework.amqp.core.Declarables;
import org.springframework.amqp.core.Queue;
import org.springframework.amqp.core.QueueBuilder;
import org.springframework.amqp.rabbit.connection.CachingConnectionFactory;
import org.springframework.amqp.rabbit.connection.Connection;
import org.springframework.amqp.rabbit.connection.ConnectionListener;
import org.springframework.beans.factory.InitializingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * RabbitMQ topology of the {@code services} profile (README "Ordering" and "Scaling out"): hash exchanges
 * ({@code app.rabbitmq.partition-exchange-type}, {@code x-modulus-hash} by default) that spread thread
 * ids over single-active-consumer queues. A thread id always lands on the same queue (across broker
 * restarts too with {@code x-modulus-hash}), and that queue has one active consumer across all
 * instances, so several instances keep per-thread order the way Artemis message groups do:
 * <ul>
 *   <li>{@code <app.rabbitmq.exchange>.in} over {@code app.rabbitmq.inbound-queues}: handling order;</li>
 *   <li>{@code <app.rabbitmq.exchange>.persist} over {@code app.rabbitmq.persist-queues}: the saves
 *   of one thread land in order (its consumer acknowledges a save only once its batch committed).</li>
 * </ul>
 * Spring AMQP's admin declares it all when the connection opens, before Camel's consumers subscribe.
 */
@Configuration(proxyBeanMethods = false)
@ConditionalOnProperty(name = "app.rabbitmq.inbound-queues")
public class RabbitPartitionsConfiguration {

    /** Each queue gets the same weight on the hash ring. */
    static final String WEIGHT = "1";

    /**
     * The partition exchange type must exist on the broker, the partition exchanges must not exist
     * with another type, and no partition queue may exist beside the configured ones: refuse to start
     * otherwise (never a 500 on intake, never consumers that do not start, never messages routed to a
     * queue nobody reads).
     */
    @Bean
    public InitializingBean partitionExchangeCheck(CachingConnectionFactory rabbitConnectionFactory, AppSettings settings) {
        AppSettings.Rabbitmq rabbitmq = settings.getRabbitmq();
        return () -> {
            com.rabbitmq.client.ConnectionFactory broker = rabbitConnectionFactory.getRabbitConnectionFactory();
            RabbitPrerequisites.requireExchangeType(broker, rabbitmq.getPartitionExchangeType(), rabbitmq.partitionExchangePlugin());
            for (String suffix : rabbitmq.getPersistQueues().isEmpty() ? List.of(".in") : List.of(".in", ".persist")) {
                RabbitPrerequisites.requireExchangeOfType(broker, rabbitmq.getExchange() + suffix,
                        rabbitmq.getPartitionExchangeType(), "app.rabbitmq.partition-exchange-type");
            }
            RabbitPrerequisites.refuseStrayPartitionQueues(broker, rabbitmq.getExchange() + ".in", rabbitmq.getPrefix(), "in",
                    rabbitmq.getInboundQueues(), "app.rabbitmq.inbound-queues");
            if (!rabbitmq.getPersistQueues().isEmpty()) {
                RabbitPrerequisites.refuseStrayPartitionQueues(broker, rabbitmq.getExchange() + ".persist", rabbitmq.getPrefix(),
                        "persist", rabbitmq.getPersistQueues(), "app.rabbitmq.persist-queues");
            }
        };
    }

    /**
     * When the consumers' connection drops, what waits in the ordering gate is handed back: the
     * broker delivers it again (README "Ordering").
     */
    @Bean
    public InitializingBean gateFollowsTheIntakeConnection(CachingConnectionFactory rabbitConnectionFactory,
                                                           KeyedResequencer keyedResequencer) {
        return () -> rabbitConnectionFactory.addConnectionListener(new HandBackOnConnectionLoss(keyedResequencer));
    }

    /** Hands the gate's waiting deliveries back when the shared connection that delivered them drops. */
    static final class HandBackOnConnectionLoss implements ConnectionListener {
        private final KeyedResequencer gate;
        /** The open connection (the client's own object): a late signal of one already replaced is ignored. */
        private volatile Object current;

        HandBackOnConnectionLoss(KeyedResequencer gate) {
            this.gate = gate;
        }

        @Override
        public void onCreate(Connection connection) {
            current = connection.getDelegate();
        }

        @Override
        public void onShutDown(ShutdownSignalException signal) {
            // not when the application closes its connection itself (a stop: the gate fails what waits anyway)
            if (!signal.isInitiatedByApplication() && signal.getReference() == current) {
                gate.handBackWaiting();
            }
        }
    }

    /**
     * The classic queue version and mode every queue of the topology is declared with
     * ({@code app.rabbitmq.queue-version}, {@code app.rabbitmq.queue-mode}).
     */
    @Bean
    ClassicQueueArguments classicQueueArguments(CachingConnectionFactory rabbitConnectionFactory, AppSettings settings) {
        AppSettings.Rabbitmq rabbitmq = settings.getRabbitmq();
        return new ClassicQueueArguments(rabbitConnectionFactory.getRabbitConnectionFactory(),
                rabbitmq.getQueueVersion(), rabbitmq.getQueueMode(), rabbitmq.getPrefix());
    }

    @Bean
    public Declarables inboundPartitions(AppSettings settings, ClassicQueueArguments classicQueueArguments) {
        return ring(settings.getRabbitmq().getExchange() + ".in", settings.getRabbitmq().getPartitionExchangeType(),
                queueNames(settings.getRabbitmq().getInboundQueues()), classicQueueArguments);
    }

    @Bean
    @ConditionalOnProperty(name = "app.rabbitmq.persist-queues")
    public Declarables persistPartitions(AppSettings settings, ClassicQueueArguments classicQueueArguments) {
        return ring(settings.getRabbitmq().getExchange() + ".persist", settings.getRabbitmq().getPartitionExchangeType(),
                queueNames(settings.getRabbitmq().getPersistQueues()), classicQueueArguments);
    }

    /**
     * The consumers of these queues settle every delivery themselves when its exchange completes:
     * their listener containers go without camel-spring-rabbitmq's retry advice
     * ({@link ListenerContainersWithoutRetry} says why).
     */
    @Bean
    public ComponentCustomizer listenerContainersWithoutRetry() {
        return ComponentCustomizer.forType(SpringRabbitMQComponent.class,
                component -> component.setListenerContainerFactory(new ListenerContainersWithoutRetry()));
    }

    /** The configured queue names, trimmed, blanks (a trailing comma) left out. */
    static List<String> queueNames(List<String> configured) {
        return configured.stream().map(String::trim).filter(n -> !n.isEmpty()).toList();
    }

    /** The exchange over its queues; the binding key is a consistent-hash weight, which x-modulus-hash ignores. */
    private static Declarables ring(String exchange, String type, List<String> names, ClassicQueueArguments arguments) {
        CustomExchange ring = new CustomExchange(exchange, type, true, false);
        List<Declarable> declarables = new ArrayList<>();
        declarables.add(ring);
        List<Queue> queues = arguments.apply(names.stream().map(name -> QueueBuilder.durable(name).singleActiveConsumer().build()).toList());
        for (Queue queue : queues) {
            Binding binding = BindingBuilder.bind(queue).to(ring).with(WEIGHT).noargs();
            declarables.add(queue);
            declarables.add(binding);
        }
        return new Declarables(declarables);
    }
}
