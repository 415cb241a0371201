package io.asyncroutes.kafka;

import io.asyncroutes.intake.KafkaCommitWindow;
import io.asyncroutes.message.ExchangeProperties;
import io.asyncroutes.message.Headers;
import io.asyncroutes.settings.KafkaSettings;
import org.apache.camel.Exchange;
import org.apache.camel.ExchangePattern;
import org.apache.camel.Message;
import org.apache.camel.builder.RouteBuilder;
import org.apache.camel.component.kafka.KafkaConstants;

/**
 * The Kafka side of the {@code kafka} profile; the pipeline itself is the same as on RabbitMQ.
 *
 * <ul>
 *   <li>{@value #INBOUND_ROUTE} / {@value #PERSIST_ROUTE}: consume the inbound and persist topics
 *   (camel-kafka, one consumer group over all instances, no auto-commit) and hand each record on to
 *   the pipeline's intake ({@code intake-queue}) or persistence ({@code persist-message}) route
 *   through an in-memory SEDA queue. camel-kafka processes a record synchronously on its polling
 *   thread; handing it on lets the poller read on while an early message waits in the ordering gate
 *   for its predecessor, which is usually right behind it in the partition. Each record is entered in
 *   its topic's {@link KafkaCommitWindow} first; its exchange's completion lets the committed offset
 *   pass it ({@code intake/InboundAcknowledgement}), and {@link WindowConsumerListener} commits and
 *   pauses on the polling thread.</li>
 *   <li>{@code kafka-publish-*}: what the pipeline publishes (REST intake, persistence hand-off,
 *   results) keyed by header {@code JMSXGroupID}: the thread id (inbound, results) or the hand-off
 *   lane (persist), so one thread stays on one partition, in order.</li>
 * </ul>
 */
public class KafkaBridgeRoutes extends RouteBuilder {

    public static final String INBOUND_ROUTE = "kafka-inbound";
    public static final String PERSIST_ROUTE = "kafka-persist";
    /** After every other route: the pollers start last and, at shutdown, stop first. */
    static final int STARTUP_ORDER = 100_000;

    private final KafkaSettings settings;
    private final KafkaCommitWindow inboundWindow;
    private final KafkaCommitWindow persistWindow;

    public KafkaBridgeRoutes(KafkaSettings settings, KafkaCommitWindow inboundWindow, KafkaCommitWindow persistWindow) {
        this.settings = settings;
        this.inboundWindow = inboundWindow;
        this.persistWindow = persistWindow;
    }

    @Override
    public void configure() {
        bridge(INBOUND_ROUTE, "{{app.kafka.inbound-consumer}}", inboundWindow, "{{app.kafka.inbound-handoff}}", 0);
        bridge(PERSIST_ROUTE, "{{app.kafka.persist-consumer}}", persistWindow, "{{app.kafka.persist-handoff}}", 1);

        publish("kafka-publish-inbound", settings.getInboundTopic());
        publish("kafka-publish-persist", settings.getPersistTopic());
        publish("kafka-publish-results", settings.getResultsTopic());
    }

    private void bridge(String routeId, String consumerUri, KafkaCommitWindow window, String handoffUri, int order) {
        from(consumerUri).routeId(routeId).startupOrder(STARTUP_ORDER + order)
                .pausable(new WindowConsumerListener(window), ignored -> true)
                .process(exchange -> {
                    Message in = exchange.getMessage();
                    exchange.setProperty(ExchangeProperties.KAFKA_DELIVERY, window.received(
                            in.getHeader(KafkaConstants.TOPIC, String.class),
                            in.getHeader(KafkaConstants.PARTITION, Integer.class),
                            in.getHeader(KafkaConstants.OFFSET, Long.class)));
                })
                // a copy goes on (with the delivery), this exchange ends here and the poller reads on; when the
                // hand-off queue is full the poller waits for room: a record refused there would be dropped
                // with its offset never completed (a poll brings up to 500 records of each of 16 partitions)
                .to(ExchangePattern.InOnly, blockingWhenFull(handoffUri));
    }

    /** The hand-off URI, its producer waiting for room in a full in-memory queue (seda, vm) rather than failing. */
    private String blockingWhenFull(String handoffUri) {
        String uri = getContext().resolvePropertyPlaceholders(handoffUri);
        return uri.contains("blockWhenFull=") ? uri : uri + (uri.contains("?") ? "&" : "?") + "blockWhenFull=true";
    }

    private void publish(String routeId, String topic) {
        from("direct:" + routeId).routeId(routeId)
                .errorHandler(noErrorHandler())
                .process(KafkaBridgeRoutes::keyed)
                .to("kafka:" + topic);
    }

    /** Record key = the group header; the accept time travels as text (headers are read back as strings). */
    static void keyed(Exchange exchange) {
        Message out = exchange.getMessage();
        out.setHeader(KafkaConstants.KEY, out.getHeader(Headers.JMS_GROUP, String.class));
        Object receivedAt = out.getHeader(Headers.RECEIVED_AT);
        if (receivedAt != null) {
            out.setHeader(Headers.RECEIVED_AT, receivedAt.toString());
        }
    }
}
