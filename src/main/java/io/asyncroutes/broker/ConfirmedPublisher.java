package io.asyncroutes.broker;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import com.rabbitmq.client.ConfirmListener;
import com.rabbitmq.client.ShutdownSignalException;
import java.io.IOException;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentNavigableMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Publishes to RabbitMQ with publisher confirms, asynchronously: {@link #publish} returns a future
 * that completes when the broker has confirmed the message (it is on disk in its queues) or fails
 * when the broker refuses it or the connection goes away before the confirm.
 *
 * <p>Why not Camel's {@code spring-rabbitmq} producer: it runs {@code invoke} + {@code
 * waitForConfirms} per message, so each send blocks a thread for a broker round trip and each
 * message is confirmed on its own. Here a few long-lived channels carry many messages in flight,
 * the broker confirms them in ranges ({@code multiple=true}), and nobody waits on a monitor.
 *
 * <p>Messages with the same lane key (the routing key unless the caller names one, e.g. the thread
 * id of a result that goes to one shared queue) go through the same channel, so they reach their
 * queue in the order they were published, and unrelated keys spread over the channels. The publisher has its own connection (its own reader thread,
 * apart from the consumers'); a lost connection fails what is unconfirmed and is opened again on
 * the next publish, no more often than once a second while the broker is unreachable.
 *
 * <p>Nothing waits without bound: a message the broker has not confirmed within the confirm
 * timeout fails (its channel is dropped, since what happened to it is unknown; one sweeper thread
 * checks each channel's oldest unconfirmed message, no timer per message), and connecting,
 * opening a channel and every other broker round trip time out after the same span. A broker in
 * the middle of stopping may accept a connection or a publish and never answer; without these
 * bounds a caller (a REST request waiting for its 202 or 503) would wait with it.
 */
public final class ConfirmedPublisher implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(ConfirmedPublisher.class);
    private static final long RECONNECT_PAUSE_NANOS = 1_000_000_000L;

    private final ConnectionFactory factory;
    private final long confirmTimeoutMillis;
    private final Lane[] lanes;
    private final Object connectionLock = new Object();
    private final java.util.concurrent.ScheduledExecutorService sweeper;
    private volatile Connection connection;
    private volatile long nextConnectAttempt;
    private volatile boolean closed;

    /**
     * @param factory        configured like the application's other connections; cloned, not changed
     * @param channels       confirm-mode channels (routing keys are spread over them)
     * @param confirmTimeout the longest a publish waits for its confirm; also bounds connecting and
     *                       every other round trip to the broker
     */
    public ConfirmedPublisher(ConnectionFactory factory, int channels, Duration confirmTimeout) {
        this.confirmTimeoutMillis = Math.max(1, confirmTimeout.toMillis());
        int bound = (int) Math.min(Integer.MAX_VALUE, confirmTimeoutMillis);
        this.factory = factory.clone();
        this.factory.setHandshakeTimeout(Math.min(positiveOr(factory.getHandshakeTimeout(), bound), bound));
        this.factory.setConnectionTimeout(Math.min(positiveOr(factory.getConnectionTimeout(), bound), bound));
        this.factory.setShutdownTimeout(Math.min(positiveOr(factory.getShutdownTimeout(), bound), bound));
        this.factory.setChannelRpcTimeout(Math.min(positiveOr(factory.getChannelRpcTimeout(), bound), bound));
        this.lanes = new Lane[Math.max(1, channels)];
        for (int i = 0; i < lanes.length; i++) {
            lanes[i] = new Lane();
        }
        sweeper = java.util.concurrent.Executors.newSingleThreadScheduledExecutor(task -> {
            Thread thread = new Thread(task, "ar-publisher-sweeper");
            thread.setDaemon(true);
            return thread;
        });
        long period = Math.max(20, Math.min(1_000, confirmTimeoutMillis / 5));
        sweeper.scheduleWithFixedDelay(this::dropStaleChannels, period, period, TimeUnit.MILLISECONDS);
    }

    /** Drops each channel whose oldest unconfirmed message has waited longer than the confirm timeout. */
    private void dropStaleChannels() {
        long now = System.nanoTime();
        for (Lane lane : lanes) {
            try {
                lane.dropIfStale(now);
            } catch (RuntimeException e) {
                LOG.warn("Checking publisher confirms: {}", e.toString());
            }
        }
    }

    private static int positiveOr(int value, int otherwise) {
        return value > 0 ? value : otherwise; // 0 means "no limit" in the RabbitMQ client
    }

    /**
     * @param headers AMQP headers (String, Number or Boolean values)
     * @return completes once the broker confirmed the message
     */
    public CompletableFuture<Void> publish(String exchange, String routingKey, Map<String, Object> headers, byte[] body) {
        return publish(exchange, routingKey, routingKey, headers, body);
    }

    /**
     * @param laneKey messages with equal lane keys keep their order (they share a channel)
     * @param headers AMQP headers (String, Number or Boolean values)
     * @return completes once the broker confirmed the message
     */
    public CompletableFuture<Void> publish(String exchange, String routingKey, String laneKey, Map<String, Object> headers,
                                           byte[] body) {
        return publish(exchange, routingKey, laneKey, headers, body, true);
    }

    /**
     * @param persistent false: the broker keeps the message in memory only (delivery mode 1), still
     *                   confirmed once a queue took it, lost if the broker restarts before it is read
     */
    public CompletableFuture<Void> publish(String exchange, String routingKey, String laneKey, Map<String, Object> headers,
                                           byte[] body, boolean persistent) {
        AMQP.BasicProperties properties = new AMQP.BasicProperties.Builder()
                .deliveryMode(persistent ? 2 : 1)
                .contentType("application/json")
                .contentEncoding("UTF-8")
                .headers(headers)
                .build();
        return lanes[Math.floorMod(laneKey.hashCode(), lanes.length)].publish(exchange, routingKey, properties, body);
    }

    private Connection connection() throws IOException {
        Connection current = connection;
        if (current != null && current.isOpen()) {
            return current;
        }
        synchronized (connectionLock) {
            current = connection;
            if (current != null && current.isOpen()) {
                return current;
            }
            if (closed) {
                throw new IOException("publisher closed");
            }
            if (System.nanoTime() < nextConnectAttempt) {
                throw new IOException("RabbitMQ unreachable (next connection attempt in under a second)");
            }
            try {
                connection = factory.newConnection("async-routes-publisher");
                return connection;
            } catch (IOException | TimeoutException e) {
                nextConnectAttempt = System.nanoTime() + RECONNECT_PAUSE_NANOS;
                throw new IOException("cannot connect to RabbitMQ: " + e, e);
            }
        }
    }

    @Override
    public void close() {
        closed = true;
        sweeper.shutdownNow();
        synchronized (connectionLock) {
            Connection current = connection;
            connection = null;
            if (current != null && current.isOpen()) {
                try {
                    current.close(5_000); // waits for the confirms already on the way
                } catch (IOException | RuntimeException e) {
                    LOG.debug("Closing the publisher connection: {}", e.toString());
                }
            }
        }
        for (Lane lane : lanes) {
            lane.failAll(new IOException("publisher closed"));
        }
    }

    /** Publishes of one routing-key slice, one at a time, on its current channel. */
    private final class Lane {
        private Confirms current;

        CompletableFuture<Void> publish(String exchange, String routingKey, AMQP.BasicProperties properties, byte[] body) {
            CompletableFuture<Void> confirmed = new CompletableFuture<>();
            try {
                // connecting (bounded, one caller at a time) happens outside the lane's lock
                Connection open = connection();
                publishOn(open, exchange, routingKey, properties, body, confirmed);
            } catch (ShutdownSignalException e) {
                // the connection or channel closed between our check and the call (AlreadyClosedException):
                // the broker is unavailable, like any lost connection, not a fault of ours
                confirmed.completeExceptionally(new IOException("RabbitMQ connection closed: " + e.getMessage(), e));
            } catch (IOException | RuntimeException e) {
                confirmed.completeExceptionally(e);
            }
            return confirmed;
        }

        private synchronized void publishOn(Connection open, String exchange, String routingKey,
                AMQP.BasicProperties properties, byte[] body, CompletableFuture<Void> confirmed) throws IOException {
            if (current == null || !current.channel.isOpen()) {
                Channel channel = open.createChannel();
                channel.confirmSelect();
                current = new Confirms(channel);
            }
            Confirms confirms = current;
            long seq = confirms.channel.getNextPublishSeqNo();
            confirms.unconfirmed.put(seq, new Pending(confirmed, System.nanoTime()));
            try {
                // mandatory, with the sequence number as correlation id: a message no queue took comes
                // back (basic.return, always before its confirm) and fails instead of counting as stored
                confirms.channel.basicPublish(exchange, routingKey, true,
                        properties.builder().correlationId(Long.toString(seq)).build(), body);
            } catch (IOException | RuntimeException e) {
                confirms.unconfirmed.remove(seq);
                throw e;
            }
        }

        void dropIfStale(long now) {
            Confirms confirms;
            synchronized (this) {
                confirms = current;
            }
            if (confirms == null) {
                return;
            }
            Map.Entry<Long, Pending> oldest = confirms.unconfirmed.firstEntry();
            if (oldest != null && now - oldest.getValue().publishedAt() > confirmTimeoutMillis * 1_000_000L) {
                discard(confirms, "no confirm within " + confirmTimeoutMillis + " ms");
            }
        }

        /** Drops a channel whose confirms stopped coming: the next publish opens a new one. */
        private void discard(Confirms stale, String reason) {
            synchronized (this) {
                if (current != stale) {
                    return; // already replaced
                }
                current = null;
            }
            LOG.warn("Publisher channel dropped: {}", reason);
            // first fail what waits (the callers learn it now), then close: closing waits for the
            // broker's answer, bounded by the RPC timeout, on the sweeper's thread, never a caller's
            stale.failAll(new TimeoutException("publisher channel dropped: " + reason));
            try {
                stale.channel.abort();
            } catch (IOException | RuntimeException e) {
                LOG.debug("Aborting a stale publisher channel: {}", e.toString());
            }
        }

        synchronized void failAll(Exception cause) {
            if (current != null) {
                current.failAll(cause);
            }
        }
    }

    /** A message on its way: the future its caller holds, and when it was published. */
    private record Pending(CompletableFuture<Void> confirmed, long publishedAt) {
    }

    /**
     * One confirm-mode channel and the futures of its unconfirmed messages by publish sequence
     * number. Each channel has its own: sequence numbers start again on a new channel.
     */
    private static final class Confirms implements ConfirmListener {
        final Channel channel;
        final ConcurrentNavigableMap<Long, Pending> unconfirmed = new ConcurrentSkipListMap<>();

        Confirms(Channel channel) {
            this.channel = channel;
            channel.addConfirmListener(this);
            channel.addReturnListener(returned -> unroutable(returned.getProperties().getCorrelationId(),
                    returned.getExchange(), returned.getRoutingKey(), returned.getReplyText()));
            // what the broker has not confirmed may or may not have arrived: the caller treats it as not sent
            channel.addShutdownListener(cause -> failAll(
                    new IOException("channel closed before the broker confirmed: " + cause.getMessage(), cause)));
        }

        void failAll(Exception cause) {
            for (Long seq : unconfirmed.keySet()) {
                complete(unconfirmed.remove(seq), cause);
            }
        }

        /**
         * The broker confirms an unroutable message like any other (it is "handled": dropped). That
         * happens when a queue or binding is missing, and while a broker stops: its partition
         * exchanges may route to no queue for a moment. Such a message is not stored, so it fails.
         */
        private void unroutable(String correlationId, String exchange, String routingKey, String reason) {
            Long seq = parseSeq(correlationId);
            if (seq != null) {
                complete(unconfirmed.remove(seq), new IOException("no queue took the message (" + reason + ") on exchange '"
                        + exchange + "' with routing key '" + routingKey + "'"));
            }
        }

        private static Long parseSeq(String correlationId) {
            try {
                return correlationId == null ? null : Long.valueOf(correlationId);
            } catch (NumberFormatException e) {
                return null;
            }
        }

        @Override
        public void handleAck(long deliveryTag, boolean multiple) {
            settle(deliveryTag, multiple, null);
        }

        @Override
        public void handleNack(long deliveryTag, boolean multiple) {
            settle(deliveryTag, multiple, new IOException("the broker refused the message (nack)"));
        }

        private void settle(long deliveryTag, boolean multiple, Exception error) {
            if (multiple) {
                ConcurrentNavigableMap<Long, Pending> upTo = unconfirmed.headMap(deliveryTag, true);
                for (Long seq : upTo.keySet()) {
                    complete(upTo.remove(seq), error);
                }
            } else {
                complete(unconfirmed.remove(deliveryTag), error);
            }
        }

        private static void complete(Pending pending, Exception error) {
            if (pending == null) {
                return;
            }
            if (error == null) {
                pending.confirmed().complete(null);
            } else {
                pending.confirmed().completeExceptionally(error);
            }
        }
    }
}
