package io.asyncroutes.persistence;

import io.asyncroutes.message.ExchangeProperties;
import io.asyncroutes.message.Headers;
import io.asyncroutes.support.DaemonThreads;
import io.asyncroutes.support.VirtualThreads;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import org.apache.camel.CamelContext;
import org.apache.camel.CamelContextAware;
import org.apache.camel.Endpoint;
import org.apache.camel.Exchange;
import org.apache.camel.Processor;
import org.apache.camel.ProducerTemplate;
import org.apache.camel.support.service.ServiceSupport;

/**
 * The persistence hand-off, batched: results tapped by many threads of conversation go to the
 * durable persist queue as one broker message per batch (a JSON array), not one per result.
 *
 * <p>Each result joins a lane chosen by its thread id, so one thread's results always travel
 * through the same lane, the same queue and the same consumer, in order. A lane publishes one
 * batch at a time, holding whatever results arrived while the previous batch was being confirmed
 * (group commit: batches grow with load, no linger delay when it is quiet). A result's hand-off
 * future completes when the broker has confirmed the batch holding it, or fails with the
 * publishing error, so {@code handle-message} acknowledges its inbound message only once the
 * result is on the durable queue.
 *
 * <p>Why: per-message publishing, consuming and acknowledging on the persist queue cost the
 * broker as much as the inbound queue itself; batches cut the persist queue's share to almost
 * nothing.
 */
public class HandoffBatcher extends ServiceSupport implements Processor, CamelContextAware {

    private final String publishUri;
    private final int maxBatch;
    private final boolean virtualThreads;
    private final List<BlockingQueue<Item>> lanes = new ArrayList<>();
    private final List<Thread> flushers = new ArrayList<>();
    private CamelContext camelContext;
    private ProducerTemplate template;
    private Endpoint publishEndpoint; // resolved once: a URI with placeholders costs a lookup per send
    private volatile boolean running;

    private record Item(String json, CompletableFuture<Void> handoff) {
    }

    /**
     * @param lanes      batches in flight at the same time, each to its own queue partition / message group
     * @param maxBatch   most results in one persist message
     * @param publishUri where batches are published
     * @param virtualThreads publish from virtual threads where the runtime has them: a lane then waits for
     *                   its batch's confirm itself, see {@link VirtualThreads}
     */
    public HandoffBatcher(int lanes, int maxBatch, String publishUri, boolean virtualThreads) {
        if (lanes < 1 || maxBatch < 1) {
            throw new IllegalArgumentException("lanes and maxBatch must be at least 1");
        }
        this.maxBatch = maxBatch;
        this.publishUri = publishUri;
        this.virtualThreads = virtualThreads && VirtualThreads.supported();
        for (int i = 0; i < lanes; i++) {
            // bounded: a tap blocks (back-pressure on handle-message) when its lane is this far behind
            this.lanes.add(new LinkedBlockingQueue<>(maxBatch * 4));
        }
    }

    /** Body: the result JSON; header {@link Headers#JMS_GROUP}: its thread id; property {@link ExchangeProperties#HANDOFF}: the future to complete. */
    @Override
    @SuppressWarnings("unchecked")
    public void process(Exchange exchange) throws InterruptedException {
        CompletableFuture<Void> handoff = exchange.getProperty(ExchangeProperties.HANDOFF, CompletableFuture.class);
        if (!running) {
            handoff.completeExceptionally(new IllegalStateException("persistence hand-off is stopped"));
            return;
        }
        String threadId = exchange.getMessage().getHeader(Headers.JMS_GROUP, "", String.class);
        lanes.get(Math.floorMod(threadId.hashCode(), lanes.size()))
                .put(new Item(exchange.getMessage().getBody(String.class), handoff));
    }

    private void flushLoop(int lane) {
        BlockingQueue<Item> queue = lanes.get(lane);
        String laneKey = "persist-lane-" + lane;
        List<Item> batch = new ArrayList<>(maxBatch);
        while (running || !queue.isEmpty()) {
            try {
                Item first = queue.poll(200, TimeUnit.MILLISECONDS);
                if (first == null) {
                    continue;
                }
                batch.add(first);
                queue.drainTo(batch, maxBatch - 1);
                publish(laneKey, batch);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            } finally {
                batch.clear();
            }
        }
        // stopped hard: never published, so their inbound messages stay unacknowledged
        Item left;
        while ((left = queue.poll()) != null) {
            left.handoff().completeExceptionally(new IllegalStateException("persistence hand-off stopped"));
        }
    }

    private void publish(String laneKey, List<Item> batch) {
        String body;
        if (batch.size() == 1) {
            body = batch.get(0).json();
        } else {
            StringBuilder array = new StringBuilder(batch.size() * 512).append('[');
            for (int i = 0; i < batch.size(); i++) {
                array.append(i == 0 ? "" : ",").append(batch.get(i).json());
            }
            body = array.append(']').toString();
        }
        Exception error;
        try {
            error = template.send(publishEndpoint, e -> {
                e.getMessage().setBody(body);
                // RabbitMQ: the lane picks the persist partition; JMS: the lane is the message group
                e.getMessage().setHeader(Headers.RABBIT_ROUTING_KEY, laneKey);
                e.getMessage().setHeader(Headers.JMS_GROUP, laneKey);
            }).getException();
        } catch (RuntimeException e) {
            error = e;
        }
        for (Item item : batch) {
            if (error == null) {
                item.handoff().complete(null);
            } else {
                item.handoff().completeExceptionally(error);
            }
        }
    }

    @Override
    protected void doStart() throws Exception {
        template = camelContext.createProducerTemplate();
        template.start();
        publishEndpoint = camelContext.getEndpoint(publishUri);
        running = true;
        ThreadFactory threads = virtualThreads ? VirtualThreads.factory("persist-handoff") : DaemonThreads.named("persist-handoff");
        for (int i = 0; i < lanes.size(); i++) {
            int lane = i;
            Thread flusher = threads.newThread(() -> flushLoop(lane));
            flushers.add(flusher);
            flusher.start();
        }
    }

    @Override
    protected void doStop() throws Exception {
        running = false; // the flushers publish what is queued, then end
        for (Thread flusher : flushers) {
            flusher.join(TimeUnit.SECONDS.toMillis(30));
        }
        flushers.clear();
        if (template != null) {
            template.stop();
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
}
