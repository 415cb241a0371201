package io.asyncroutes.broker;

import io.asyncroutes.message.Headers;
import io.asyncroutes.support.VirtualThreads;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import org.apache.camel.AsyncCallback;
import org.apache.camel.Consumer;
import org.apache.camel.Endpoint;
import org.apache.camel.Exchange;
import org.apache.camel.Processor;
import org.apache.camel.Producer;
import org.apache.camel.spi.ThreadPoolProfile;
import org.apache.camel.support.DefaultAsyncProducer;
import org.apache.camel.support.DefaultComponent;
import org.apache.camel.support.DefaultEndpoint;

/**
 * A send-only Camel component over {@link ConfirmedPublisher}:
 * {@code <name>:<exchange>?routingKey=<key>[&persistent=false]}. Messages are persistent unless the
 * endpoint says {@code persistent=false} (delivery mode 1: in the broker's memory only, still
 * confirmed, gone if the broker restarts before they are read). The routing key of a message is its
 * {@code CamelSpringRabbitmqRoutingOverrideKey} header when set (the same header the
 * {@code spring-rabbitmq} producer honours), else the endpoint's {@code routingKey}. Messages with
 * the same {@code JMSXGroupID} header (the thread id) keep their order, else those with the same
 * routing key. The exchange
 * continues when the broker has confirmed the message, on a small pool of the component's, never
 * on the connection's reader thread and without a thread blocked while the confirm is on its way;
 * a caller on a virtual thread waits for the confirm itself and goes on on its own thread.
 * Message headers with String, number or boolean values travel as AMQP headers ({@code Camel*} and
 * {@code JMS*} headers stay behind).
 */
public class ConfirmedRabbitComponent extends DefaultComponent {

    private final ConfirmedPublisher publisher;
    private ExecutorService continuations;

    public ConfirmedRabbitComponent(ConfirmedPublisher publisher) {
        this.publisher = publisher;
    }

    @Override
    protected Endpoint createEndpoint(String uri, String remaining, Map<String, Object> parameters) {
        String routingKey = getAndRemoveParameter(parameters, "routingKey", String.class, "");
        boolean persistent = getAndRemoveParameter(parameters, "persistent", Boolean.class, Boolean.TRUE);
        return new PublishEndpoint(uri, this, remaining, routingKey, persistent);
    }

    @Override
    protected void doStart() throws Exception {
        super.doStart();
        ThreadPoolProfile profile = new ThreadPoolProfile("ar-confirmed");
        profile.setPoolSize(16);
        profile.setMaxPoolSize(16);
        profile.setMaxQueueSize(-1); // never run a continuation on the reader thread (rejection would)
        continuations = getCamelContext().getExecutorServiceManager().newThreadPool(this, "ar-confirmed", profile);
    }

    @Override
    protected void doStop() throws Exception {
        publisher.close(); // the outstanding confirms arrive first
        if (continuations != null) {
            getCamelContext().getExecutorServiceManager().shutdownGraceful(continuations);
        }
        super.doStop();
    }

    static Map<String, Object> amqpHeaders(Map<String, Object> headers) {
        Map<String, Object> amqp = new HashMap<>();
        headers.forEach((name, value) -> {
            if (!name.startsWith("Camel") && !name.startsWith("camel") && !name.startsWith("JMS")
                    && (value instanceof String || value instanceof Number || value instanceof Boolean)) {
                amqp.put(name, value);
            }
        });
        return amqp;
    }

    private final class PublishEndpoint extends DefaultEndpoint {
        private final String exchangeName;
        private final String routingKey;
        private final boolean persistent;

        PublishEndpoint(String uri, ConfirmedRabbitComponent component, String exchangeName, String routingKey,
                        boolean persistent) {
            super(uri, component);
            this.exchangeName = exchangeName;
            this.routingKey = routingKey;
            this.persistent = persistent;
        }

        @Override
        public Producer createProducer() {
            return new PublishProducer(this);
        }

        @Override
        public Consumer createConsumer(Processor processor) {
            throw new UnsupportedOperationException("send only: consume with spring-rabbitmq");
        }
    }

    private final class PublishProducer extends DefaultAsyncProducer {
        private final PublishEndpoint endpoint;

        PublishProducer(PublishEndpoint endpoint) {
            super(endpoint);
            this.endpoint = endpoint;
        }

        @Override
        public boolean process(Exchange exchange, AsyncCallback callback) {
            Object body = exchange.getMessage().getBody();
            byte[] bytes = body instanceof byte[] b ? b
                    : exchange.getMessage().getBody(String.class).getBytes(StandardCharsets.UTF_8);
            String key = exchange.getMessage().getHeader(Headers.RABBIT_ROUTING_KEY, endpoint.routingKey, String.class);
            // one thread's messages keep their order on one channel, also when they share a routing key (results)
            String lane = exchange.getMessage().getHeader(Headers.JMS_GROUP, key, String.class);
            CompletableFuture<Void> confirm = publisher.publish(endpoint.exchangeName, key, lane,
                    amqpHeaders(exchange.getMessage().getHeaders()), bytes, endpoint.persistent);
            if (VirtualThreads.current()) {
                // a virtual thread waits for the confirm where it is (bounded by the publisher's confirm
                // timeout) and the exchange goes on here: no hop through the continuation pool
                try {
                    confirm.join();
                } catch (CompletionException | CancellationException e) {
                    exchange.setException(e.getCause() != null ? e.getCause() : e);
                }
                callback.done(true);
                return true;
            }
            confirm.whenCompleteAsync((confirmed, error) -> {
                if (error != null) {
                    exchange.setException(error);
                }
                callback.done(false);
            }, continuations);
            return false;
        }
    }
}
