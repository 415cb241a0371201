package io.asyncroutes.persistence;

import io.asyncroutes.message.Headers;
import io.asyncroutes.support.RejectedInputException;
import io.asyncroutes.support.TransientErrors;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.apache.camel.AsyncCallback;
import org.apache.camel.CamelContext;
import org.apache.camel.CamelContextAware;
import org.apache.camel.Endpoint;
import org.apache.camel.Exchange;
import org.apache.camel.ProducerTemplate;
import org.apache.camel.support.AsyncProcessorSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Group commit for the persist queue: each consumer thread hands its row over and waits; one
 * writer thread collects whatever rows are waiting (up to the batch size) and writes them as one
 * JDBC batch. A message is acknowledged only after the batch holding it is committed, so a crash
 * loses nothing, and batches grow with load without a linger delay when the queue is quiet.
 *
 * <p>If a batch fails for a non-transient reason, its rows are written one by one so that one bad
 * row is dead-lettered with its reason instead of blocking the others.
 */
public class GroupCommitBatcher extends AsyncProcessorSupport implements CamelContextAware {

    private static final Logger LOG = LoggerFactory.getLogger(GroupCommitBatcher.class);

    private final int batchSize;
    private final String batchUri;
    private final String singleUri;
    private final BlockingQueue<Pending> pending = new LinkedBlockingQueue<>();
    /** Rows handed over and not yet written: at most a few batches. */
    private final java.util.concurrent.Semaphore waiting;
    private CamelContext camelContext;
    private ProducerTemplate template;
    private Endpoint batchEndpoint;
    private Endpoint singleEndpoint;
    private Endpoint deadLetterEndpoint;
    private Thread writer;
    private volatile boolean running;

    /** One persist-queue message: a single result or a hand-off batch of them. */
    record Pending(Exchange exchange, List<Map<String, Object>> rows, AsyncCallback callback) {
    }

    private final String deadLetterUri;

    public GroupCommitBatcher(int batchSize, String batchUri, String singleUri, String deadLetterUri) {
        this.batchSize = batchSize;
        this.waiting = new java.util.concurrent.Semaphore(batchSize * 8);
        this.batchUri = batchUri;
        this.singleUri = singleUri;
        this.deadLetterUri = deadLetterUri;
    }

    @Override
    public boolean process(Exchange exchange, AsyncCallback callback) {
        List<Map<String, Object>> rows;
        try {
            rows = ResultRows.of(exchange.getMessage().getBody(String.class));
        } catch (RuntimeException e) {
            // dead-lettered at once by the consumer's route configuration, like any contract breach
            exchange.setException(new RejectedInputException(422, "invalid_result", "not a message result",
                    List.of(String.valueOf(e.getMessage()))));
            callback.done(true);
            return true;
        }
        if (!running) {
            exchange.setException(new IllegalStateException("persistence writer is stopped"));
            callback.done(true);
            return true;
        }
        // back-pressure: an asynchronous consumer blocks here while this many rows wait for the writer
        int permits = Math.min(rows.size(), batchSize * 8);
        try {
            waiting.acquire(permits);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            exchange.setException(e);
            callback.done(true);
            return true;
        }
        pending.add(new Pending(exchange, rows, sync -> {
            waiting.release(permits);
            callback.done(sync);
        }));
        return false;
    }

    private void writeLoop() {
        List<Pending> batch = new ArrayList<>(batchSize);
        while (running || !pending.isEmpty()) {
            try {
                Pending first = pending.poll(200, TimeUnit.MILLISECONDS);
                if (first == null) {
                    continue;
                }
                batch.add(first);
                int rows = first.rows().size();
                Pending next;
                while (rows < batchSize && (next = pending.poll()) != null) {
                    batch.add(next);
                    rows += next.rows().size();
                }
                write(batch);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            } catch (RuntimeException e) {
                LOG.error("Persistence writer failed on a batch of {}", batch.size(), e);
                batch.forEach(p -> fail(p, e));
            } finally {
                batch.clear();
            }
        }
        // stopped hard: whatever is left was never written and is not acknowledged
        Pending left;
        while ((left = pending.poll()) != null) {
            fail(left, new IllegalStateException("persistence writer stopped before writing"));
        }
    }

    private void write(List<Pending> batch) {
        List<Map<String, Object>> rows = new ArrayList<>(batch.size());
        batch.forEach(p -> rows.addAll(p.rows()));
        Exchange result = template.send(batchEndpoint, e -> e.getMessage().setBody(rows));
        if (result.getException() == null) {
            batch.forEach(p -> p.callback().done(false));
            return;
        }
        if (TransientErrors.isTransient(result.getException())) {
            // only when stopping: the retry gave up, the messages stay unacknowledged on the queue
            batch.forEach(p -> fail(p, result.getException()));
            return;
        }
        LOG.warn("Batch of {} rows failed ({}); writing them one by one", batch.size(),
                result.getException().toString());
        for (Pending p : batch) {
            Exception error = null;
            for (Map<String, Object> row : p.rows()) {
                Exception rowError = writeOne(p.exchange(), row);
                error = error != null ? error : rowError;
            }
            if (error != null) {
                fail(p, error); // transient: the whole message goes back; its written rows are idempotent
            } else {
                p.callback().done(false);
            }
        }
    }

    /** Writes one row, dead-letters it if it can never be written; returns a transient error, if any. */
    private Exception writeOne(Exchange consumed, Map<String, Object> row) {
        Exchange single = template.send(singleEndpoint, e -> e.getMessage().setBody(row));
        Exception error = single.getException();
        if (error != null && !TransientErrors.isTransient(error)) {
            LOG.error("Row {} can never be written: {}", row.get("id"), error.toString());
            // a copy of the consumed exchange keeps its headers and its route of origin
            Exchange dead = consumed.copy();
            dead.getMessage().setHeader(Headers.DEAD_LETTER_REASON, "unwritable_row: " + error.getMessage());
            dead.getMessage().setBody(row.get("result"));
            error = template.send(deadLetterEndpoint, dead).getException();
        }
        return error;
    }

    private static void fail(Pending p, Exception e) {
        p.exchange().setException(e);
        p.callback().done(false);
    }

    @Override
    protected void doStart() throws Exception {
        template = camelContext.createProducerTemplate();
        template.start();
        batchEndpoint = camelContext.getEndpoint(batchUri);
        singleEndpoint = camelContext.getEndpoint(singleUri);
        deadLetterEndpoint = camelContext.getEndpoint(deadLetterUri);
        running = true;
        writer = new Thread(this::writeLoop, "persist-writer");
        writer.start();
    }

    @Override
    protected void doStop() throws Exception {
        running = false;
        if (writer != null) {
            writer.join(TimeUnit.SECONDS.toMillis(30));
        }
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

    /** Rows waiting for the writer; exposed for metrics and tests. */
    public int backlog() {
        return pending.size();
    }
}
