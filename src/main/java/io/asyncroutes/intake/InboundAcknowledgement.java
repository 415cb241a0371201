package io.asyncroutes.intake;

import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.HashMap;
import java.util.Map;
import org.apache.camel.CamelContext;
import org.apache.camel.CamelContextAware;
import org.apache.camel.Endpoint;
import org.apache.camel.Exchange;
import org.apache.camel.Processor;
import org.apache.camel.ProducerTemplate;
import org.apache.camel.support.SynchronizationAdapter;
import org.apache.camel.support.service.ServiceSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Acknowledges each inbound broker message on its own, when its exchange completes. The intake
 * consumers are asynchronous with a prefetch window: the consumer hands a message to the pipeline
 * and reads the next one at once, so an early message can wait in the ordering gate for its
 * predecessor, which is usually right behind it on the queue. Nothing is acknowledged before its
 * exchange is done; a crash leaves every unfinished message unacknowledged, and the broker
 * redelivers it.
 *
 * <ul>
 *   <li>RabbitMQ ({@code acknowledgeMode=MANUAL}): {@code basicAck(deliveryTag)} on the consumer's
 *   channel; a failed exchange (a dependency down) is {@code basicNack}ed back onto its queue after a
 *   delay that doubles per consecutive failure, so an outage does not spin.</li>
 *   <li>JMS (Artemis {@code INDIVIDUAL_ACKNOWLEDGE}): {@code message.acknowledge()} acknowledges that
 *   message alone; a failed one is left unacknowledged and recovered by the consumer's session
 *   after the same delay ({@link JmsRecovery}).</li>
 *   <li>Anything else (direct, a transacted consumer): nothing to do.</li>
 * </ul>
 */
public class InboundAcknowledgement extends ServiceSupport implements Processor, CamelContextAware {

    private static final Logger LOG = LoggerFactory.getLogger(InboundAcknowledgement.class);

    /** camel-spring-rabbitmq: the consumer's channel (property) and the delivery tag (header). */
    static final String RABBIT_CHANNEL = "CamelSpringRabbitmqChannel";
    static final String RABBIT_DELIVERY_TAG = "CamelSpringRabbitmqDeliveryTag";

    private final long initialDelayMillis;
    private final long maxDelayMillis;
    /** Consecutive failed exchanges: the redelivery delay grows with it, a success resets it. */
    private final AtomicInteger failureStreak = new AtomicInteger();
    private volatile ScheduledExecutorService scheduler;
    private CamelContext camelContext;
    private ProducerTemplate template;

    public InboundAcknowledgement(Duration redeliveryDelay, Duration redeliveryMaxDelay) {
        this.initialDelayMillis = redeliveryDelay.toMillis();
        this.maxDelayMillis = redeliveryMaxDelay.toMillis();
    }

    @Override
    public void process(Exchange exchange) {
        Object channel = exchange.getProperty(RABBIT_CHANNEL);
        Long tag = exchange.getMessage().getHeader(RABBIT_DELIVERY_TAG, Long.class);
        if (channel != null && tag != null) {
            exchange.getExchangeExtension().addOnCompletion(new Settle(RabbitAck.of(channel, tag)));
            return;
        }
        if (exchange.getIn().getClass().getName().equals("org.apache.camel.component.jms.JmsMessage")) {
            Ack jms = JmsAck.of(exchange, template);
            if (jms != null) {
                exchange.getExchangeExtension().addOnCompletion(new Settle(jms));
            } else {
                LOG.debug("Inbound JMS message in a transacted or auto-acknowledged session: nothing to settle");
            }
        }
    }

    /** How one broker settles one message. */
    interface Ack {
        void ack() throws Exception;

        /** Give the message back for redelivery. */
        void requeue() throws Exception;
    }

    private final class Settle extends SynchronizationAdapter {
        private final Ack ack;

        Settle(Ack ack) {
            this.ack = ack;
        }

        @Override
        public boolean allowHandover() {
            return false; // settled by the exchange that the broker delivered, not by a copy
        }

        @Override
        public int getOrder() {
            return LOWEST; // after the other completions (idempotency key, ordering turn) have run
        }

        @Override
        public void onComplete(Exchange exchange) {
            failureStreak.set(0);
            try {
                ack.ack();
            } catch (Exception e) {
                // the broker redelivers it; the idempotent consumer recognises the copy
                LOG.warn("Could not acknowledge an inbound message: {}", e.toString());
            }
        }

        @Override
        public void onFailure(Exchange exchange) {
            LOG.debug("Exchange {} failed: its message goes back to the broker", exchange.getExchangeId());
            int streak = failureStreak.incrementAndGet();
            long delay = Math.min(maxDelayMillis, initialDelayMillis << Math.min(20, streak - 1));
            ScheduledExecutorService s = scheduler;
            Runnable requeue = () -> {
                try {
                    ack.requeue();
                } catch (Exception e) {
                    LOG.warn("Could not hand back an inbound message: {}", e.toString());
                }
            };
            if (s == null || s.isShutdown()) {
                requeue.run();
            } else {
                s.schedule(requeue, delay, TimeUnit.MILLISECONDS);
            }
        }
    }

    /** Kept apart so that the RabbitMQ client classes are loaded only where RabbitMQ is used. */
    static final class RabbitAck implements Ack {
        private final com.rabbitmq.client.Channel channel;
        private final long tag;

        private RabbitAck(com.rabbitmq.client.Channel channel, long tag) {
            this.channel = channel;
            this.tag = tag;
        }

        static Ack of(Object channel, long tag) {
            return new RabbitAck((com.rabbitmq.client.Channel) channel, tag);
        }

        @Override
        public void ack() throws Exception {
            if (channel.isOpen()) {
                channel.basicAck(tag, false);
            }
        }

        @Override
        public void requeue() throws Exception {
            if (channel.isOpen()) {
                channel.basicNack(tag, false, true);
            }
        }
    }

    /**
     * Kept apart so that camel-jms is loaded only where JMS is used. The session must be in Artemis's
     * {@code INDIVIDUAL_ACKNOWLEDGE} mode ({@code config/JmsBrokerConfiguration}): {@code acknowledge()}
     * then settles this one message. JMS has no negative acknowledgement of one message, so a failed
     * one is sent again to its queue (with its headers, JMSXGroupID included) and then acknowledged:
     * at least once, and the copy is recognised by the idempotent consumer if it had got that far.
     */
    static final class JmsAck implements Ack {
        private final jakarta.jms.Message message;
        private final jakarta.jms.Session session;
        private final Endpoint origin;
        private final Object body;
        private final Map<String, Object> headers;
        private final ProducerTemplate template;

        private JmsAck(jakarta.jms.Message message, jakarta.jms.Session session, Endpoint origin, Object body,
                       Map<String, Object> headers, ProducerTemplate template) {
            this.message = message;
            this.session = session;
            this.origin = origin;
            this.body = body;
            this.headers = headers;
            this.template = template;
        }

        static Ack of(Exchange exchange, ProducerTemplate template) throws RuntimeException {
            org.apache.camel.component.jms.JmsMessage in = exchange.getIn(org.apache.camel.component.jms.JmsMessage.class);
            if (in == null || in.getJmsMessage() == null || in.getJmsSession() == null || isTransacted(in.getJmsSession())) {
                return null;
            }
            Map<String, Object> headers = new HashMap<>();
            in.getHeaders().forEach((name, value) -> {
                if (!name.startsWith("JMS") || name.equals("JMSXGroupID")) {
                    headers.put(name, value);
                }
            });
            return new JmsAck(in.getJmsMessage(), in.getJmsSession(), exchange.getFromEndpoint(), in.getBody(),
                    headers, template);
        }

        private static boolean isTransacted(jakarta.jms.Session session) {
            try {
                return session.getTransacted() || session.getAcknowledgeMode() == jakarta.jms.Session.AUTO_ACKNOWLEDGE
                        || session.getAcknowledgeMode() == jakarta.jms.Session.DUPS_OK_ACKNOWLEDGE;
            } catch (jakarta.jms.JMSException e) {
                return true;
            }
        }

        @Override
        public void ack() throws Exception {
            synchronized (session) { // a JMS session is single-threaded; acks come from many exchanges
                message.acknowledge();
            }
        }

        @Override
        public void requeue() throws Exception {
            template.send(origin, copy -> {
                copy.getIn().setHeaders(new HashMap<>(headers));
                copy.getIn().setBody(body);
                copy.setPattern(org.apache.camel.ExchangePattern.InOnly);
            });
            ack();
        }
    }

    @Override
    public CamelContext getCamelContext() {
        return camelContext;
    }

    @Override
    public void setCamelContext(CamelContext camelContext) {
        this.camelContext = camelContext;
    }

    @Override
    protected void doStart() {
        if (camelContext != null && template == null) {
            template = camelContext.createProducerTemplate();
        }
        scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "ar-intake-redelivery");
            t.setDaemon(true);
            return t;
        });
    }

    @Override
    protected void doStop() {
        ScheduledExecutorService s = scheduler;
        scheduler = null;
        if (s != null) {
            // what waits for its delay is handed back at once (the channel closes with the consumer anyway)
            s.shutdownNow().forEach(Runnable::run);
        }
    }
}
