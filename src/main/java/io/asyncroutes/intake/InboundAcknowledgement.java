package io.asyncroutes.intake;

import io.asyncroutes.message.ExchangeProperties;
import io.asyncroutes.support.StoppingException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
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
 *   <li>RabbitMQ ({@code acknowledgeMode=MANUAL}): acknowledged on the consumer's channel, coalesced
 *   ({@link RabbitAckWindow}): once every delivery up to a tag is settled, one {@code basicAck(tag,
 *   multiple=true)} covers them; a failed exchange (a dependency down) is {@code basicNack}ed back
 *   onto its queue after a delay that doubles per consecutive failure, so an outage does not spin.</li>
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
    /** One acknowledgement window per consumer channel (weak: a closed channel's window goes with it). */
    private final Map<Object, RabbitAckWindow> windows = java.util.Collections.synchronizedMap(new java.util.WeakHashMap<>());
    private CamelContext camelContext;
    private ProducerTemplate template;

    public InboundAcknowledgement(Duration redeliveryDelay, Duration redeliveryMaxDelay) {
        this.initialDelayMillis = redeliveryDelay.toMillis();
        this.maxDelayMillis = redeliveryMaxDelay.toMillis();
    }

    @Override
    public void process(Exchange exchange) {
        KafkaCommitWindow.Delivery kafka = exchange.getProperty(ExchangeProperties.KAFKA_DELIVERY, KafkaCommitWindow.Delivery.class);
        if (kafka != null) {
            exchange.setProperty(ExchangeProperties.STILL_OWNED, (java.util.function.BooleanSupplier) kafka::claim);
            exchange.getExchangeExtension().addOnCompletion(new Settle(new KafkaRetry(kafka, exchange, template)));
            return;
        }
        Object channel = exchange.getProperty(RABBIT_CHANNEL);
        Long tag = exchange.getMessage().getHeader(RABBIT_DELIVERY_TAG, Long.class);
        if (channel != null && tag != null) {
            RabbitAckWindow window = windows.computeIfAbsent(channel, c -> RabbitAckWindow.of(c, this::schedule));
            exchange.getExchangeExtension().addOnCompletion(new Settle(window.delivery(tag)));
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

    /**
     * Sends now the acknowledgements that still linger in the RabbitMQ windows (completed deliveries
     * behind an unsettled one): done before a partition's consumer is stopped, so that closing its
     * channel puts back only what was never handled.
     */
    public void flushAcknowledgements() {
        List<RabbitAckWindow> open;
        synchronized (windows) {
            open = new ArrayList<>(windows.values());
        }
        open.forEach(RabbitAckWindow::flushWaiting);
    }

    /** How one broker settles one message. */
    interface Ack {
        void ack() throws Exception;

        /** The exchange completed: by default, acknowledge. */
        default void ack(Exchange exchange) throws Exception {
            ack();
        }

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
                ack.ack(exchange);
            } catch (Exception e) {
                // the broker redelivers it; the idempotent consumer recognises the copy
                LOG.warn("Could not acknowledge an inbound message: {}", e.toString());
            }
            if (camelContext != null && camelContext.isStopping()) {
                // what is handled during a graceful stop is acknowledged before the consumers' channels close
                flushAcknowledgements();
            }
        }

        @Override
        public void onFailure(Exchange exchange) {
            if (exchange.getException(StoppingException.class) != null) {
                // handed back unhandled by a stop: given back now, while the consumer's session or channel is
                // still open (a delay could outlast the stop); a Kafka record is left unsettled, its offset not
                // committed past it, and is read again after the restart (sent back in, it would only meet the
                // stopping gate again)
                if (!(ack instanceof KafkaRetry)) {
                    try {
                        ack.requeue();
                    } catch (Exception e) {
                        LOG.debug("A message handed back at the stop stays unacknowledged: {}", e.toString());
                    }
                }
                return;
            }
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

    private void schedule(Runnable task, long delayMillis) {
        ScheduledExecutorService s = scheduler;
        if (s == null || s.isShutdown()) {
            task.run();
        } else {
            s.schedule(task, delayMillis, TimeUnit.MILLISECONDS);
        }
    }

    /**
     * The acknowledgements of one RabbitMQ consumer channel, coalesced. Delivery tags on a channel
     * run 1, 2, 3, ...; exchanges complete out of that order (threads run in parallel, an early
     * message waits in the ordering gate). Acknowledging each one alone out of order costs the
     * broker a search through the channel's unacknowledged deliveries per ack (measured on this
     * machine's RabbitMQ 3.10: 0.135 ms of broker CPU per message for single acks shuffled within
     * 256 deliveries, 0.070 ms for one multiple-ack per 50). So: once every tag up to {@code t} is
     * settled, one {@code basicAck(t, multiple=true)} covers the run. A completed delivery that
     * waits behind an unsettled one (a message still waiting, or failed and to be handed back) is
     * acknowledged alone after {@link #LINGER_MILLIS}, so a message that never settles (or a tag
     * this window never saw) delays the others only that long. A failed delivery is handed back
     * alone ({@code basicNack(tag, false, true)}) before any multiple-ack can cover it.
     *
     * <p>The multiple-ack of a settled run waits {@link #LINGER_MILLIS} too, so one ack covers every
     * run that settled meanwhile. Under load runs are long anyway; at a low rate each delivery settles
     * alone and was acknowledged alone, and every ack let a version 2 queue that had emptied delete its
     * segment files, which the next message created again: RabbitMQ's CPU per request at ~600 req/s
     * fell from 1.50-1.70 to 1.30-1.39 ms with the wait (docs/benchmarks.md "2026-12-06"). What is
     * handled meanwhile is at most redelivered after a crash, and recognised as a duplicate; a
     * stopping context acknowledges at once ({@link Settle}), and a partition hand-over flushes first.
     *
     * <p>Kept apart so that the RabbitMQ client classes are loaded only where RabbitMQ is used.
     */
    static final class RabbitAckWindow {
        static final long LINGER_MILLIS = 20;
        /**
         * Settled tags kept above an unsettled one before the floor jumps over it: more than any
         * prefetch window, so it only happens for a tag that will never settle here (a delivery
         * that failed before reaching the route). A jumped-over tag that settles later is settled alone.
         */
        static final int MAX_ABOVE = 8192;
        private static final Boolean WAITING = Boolean.TRUE;   // completed, not acknowledged yet
        private static final Boolean SETTLED = Boolean.FALSE;  // acknowledged or handed back alone

        interface Scheduler {
            void schedule(Runnable task, long delayMillis);
        }

        private final com.rabbitmq.client.Channel channel;
        private final Scheduler scheduler;
        /** Every tag up to here is settled. */
        private long floor;
        /** Tags above the floor that are settled or waiting to be acknowledged. */
        private final java.util.TreeMap<Long, Boolean> above = new java.util.TreeMap<>();
        private boolean flushScheduled;
        /** The highest tag of the settled run not acknowledged yet (one multiple-ack per linger). */
        private long pendingRange;
        /** Tags put in {@code above} as waiting since the last flush (some acknowledged by a range since). */
        private final java.util.ArrayList<Long> sinceFlush = new java.util.ArrayList<>();
        /** Tags the floor jumped over unsettled. */
        private final java.util.Set<Long> jumped = new java.util.HashSet<>();

        private final int maxAbove;

        RabbitAckWindow(com.rabbitmq.client.Channel channel, Scheduler scheduler) {
            this(channel, scheduler, MAX_ABOVE);
        }

        RabbitAckWindow(com.rabbitmq.client.Channel channel, Scheduler scheduler, int maxAbove) {
            this.channel = channel;
            this.scheduler = scheduler;
            this.maxAbove = maxAbove;
        }

        static RabbitAckWindow of(Object channel, Scheduler scheduler) {
            return new RabbitAckWindow((com.rabbitmq.client.Channel) channel, scheduler);
        }

        Ack delivery(long tag) {
            return new Ack() {
                @Override
                public void ack() throws Exception {
                    completed(tag);
                }

                @Override
                public void requeue() throws Exception {
                    handBack(tag);
                }
            };
        }

        synchronized void completed(long tag) throws java.io.IOException {
            if (!channel.isOpen()) {
                return; // a closed channel's deliveries are back on the queue already
            }
            if (tag <= floor) {
                if (jumped.remove(tag)) {
                    channel.basicAck(tag, false);
                }
                return;
            }
            above.put(tag, WAITING);
            sinceFlush.add(tag);
            advance();
            if (!above.isEmpty()) {
                scheduleFlush();
            }
        }

        private void scheduleFlush() {
            if (!flushScheduled) {
                flushScheduled = true;
                scheduler.schedule(this::flushWaiting, LINGER_MILLIS);
            }
        }

        synchronized void handBack(long tag) throws java.io.IOException {
            if (!channel.isOpen()) {
                return;
            }
            channel.basicNack(tag, false, true);
            if (tag <= floor) {
                jumped.remove(tag);
                return;
            }
            above.put(tag, SETTLED);
            advance();
        }

        /** Moves the floor over the settled run above it; one multiple-ack for what waits in that run. */
        private void advance() throws java.io.IOException {
            // a multiple-ack would also cover a jumped-over tag still in flight: then each alone
            java.util.List<Long> alone = jumped.isEmpty() ? null : new java.util.ArrayList<>();
            long lastWaiting = 0;
            while (!above.isEmpty() && above.firstKey() == floor + 1) {
                floor++;
                if (above.pollFirstEntry().getValue() == WAITING) {
                    lastWaiting = floor;
                    if (alone != null) {
                        alone.add(floor);
                    }
                }
            }
            if (alone == null) {
                if (lastWaiting > 0) {
                    pendingRange = lastWaiting;
                    scheduleFlush();
                }
            } else {
                for (long tag : alone) {
                    channel.basicAck(tag, false);
                }
            }
            if (above.isEmpty()) {
                sinceFlush.clear(); // all acknowledged by ranges: nothing can wait
            }
            if (above.size() > maxAbove) {
                // a tag below has not settled in a whole window's time: go on without it
                for (long t = floor + 1; t < above.firstKey(); t++) {
                    jumped.add(t);
                }
                floor = above.firstKey() - 1;
                advance();
            }
        }

        /** The settled run's multiple-ack; what still waits behind an unsettled delivery is acknowledged alone. */
        synchronized void flushWaiting() {
            flushScheduled = false;
            if (!channel.isOpen()) {
                above.clear();
                sinceFlush.clear();
                pendingRange = 0;
                return;
            }
            try {
                if (pendingRange > 0) {
                    long tag = pendingRange;
                    pendingRange = 0;
                    channel.basicAck(tag, true);
                }
                // only what completed since the last flush can wait: no walk over the whole window
                for (Long tag : sinceFlush) {
                    if (tag > floor && above.replace(tag, WAITING, SETTLED)) {
                        channel.basicAck(tag, false);
                    }
                }
                sinceFlush.clear();
            } catch (java.io.IOException | RuntimeException e) {
                // the broker redelivers what was not acknowledged; the idempotent consumer recognises it
                LOG.warn("Could not acknowledge inbound messages: {}", e.toString());
            }
        }

        synchronized long floor() {
            return floor;
        }

        /** Whether acknowledgements wait for the linger's flush. */
        synchronized boolean lingering() {
            return flushScheduled;
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
            Exchange sent = template.send(origin, copy -> {
                copy.getIn().setHeaders(new HashMap<>(headers));
                copy.getIn().setBody(body);
                copy.setPattern(org.apache.camel.ExchangePattern.InOnly);
            });
            if (sent.getException() != null) {
                // the copy is not on the queue (the session closing at a stop, the broker gone): the original
                // stays unacknowledged, so its broker delivers it again; acknowledging it would lose it
                throw sent.getException();
            }
            ack();
        }
    }

    /**
     * Kafka has no negative acknowledgement and a partition is one ordered log: a failed record is
     * retried in place, sent again (body, headers and delivery) to the endpoint it came from, while its
     * offset holds the floor. Not when the partition has moved to another instance meanwhile: the new
     * owner reads it again from the committed offset.
     */
    static final class KafkaRetry implements Ack {
        private final KafkaCommitWindow.Delivery delivery;
        private final Endpoint origin;
        private final Object body;
        private final Map<String, Object> headers;
        private final ProducerTemplate template;

        KafkaRetry(KafkaCommitWindow.Delivery delivery, Exchange exchange, ProducerTemplate template) {
            this.delivery = delivery;
            this.origin = exchange.getFromEndpoint();
            this.body = exchange.getIn().getBody();
            this.headers = new HashMap<>(exchange.getIn().getHeaders());
            this.template = template;
        }

        @Override
        public void ack() {
            delivery.completed();
        }

        @Override
        public void ack(Exchange exchange) {
            if (exchange.isRollbackOnly()) {
                delivery.abandoned(); // dropped unhandled by the ordering gate: the partition moved away
            } else {
                delivery.completed();
            }
        }

        @Override
        public void requeue() {
            if (!delivery.isCurrent()) {
                LOG.debug("Kafka record {} failed after its partition moved: its new owner reads it again", delivery);
                delivery.abandoned();
                return;
            }
            template.send(origin, copy -> {
                copy.getIn().setHeaders(new HashMap<>(headers));
                copy.getIn().setBody(body);
                copy.setProperty(ExchangeProperties.KAFKA_DELIVERY, delivery);
                copy.setPattern(org.apache.camel.ExchangePattern.InOnly);
            });
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
