package io.asyncroutes.ordering;

import io.asyncroutes.support.VirtualThreads;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.camel.AsyncCallback;
import org.apache.camel.Exchange;
import org.apache.camel.ProducerTemplate;
import org.apache.camel.builder.RouteBuilder;
import org.apache.camel.impl.DefaultCamelContext;
import org.apache.camel.support.AsyncProcessorSupport;

/**
 * A plain CamelContext with {@code direct:ordered} → keyed resequencer → a simulated asynchronous
 * I/O step that completes after a per-message delay on a scheduler (no thread held while it
 * "waits"). Records per-thread handling order and probes that one thread's messages never overlap.
 * Shared by the ordering tests and the ordering benchmark.
 */
public class OrderingHarness implements AutoCloseable {

    public static final String THREAD = "threadId";
    public static final String SEQ = "seq";
    public static final String IO_MICROS = "ioMicros";

    public final SimpleMeterRegistry meters = new SimpleMeterRegistry();
    public final KeyedResequencer gate;
    public final DefaultCamelContext camel = new DefaultCamelContext();
    public final ProducerTemplate producer;
    /** Handled (non-duplicate) seqs per thread, in handling order. */
    public final Map<String, List<Long>> handled = new ConcurrentHashMap<>();
    /** Seq duplicates per thread. */
    public final Map<String, List<Long>> duplicates = new ConcurrentHashMap<>();
    /** Highest number of one thread's messages seen in the I/O step at once, over all threads. */
    public final AtomicInteger maxOverlap = new AtomicInteger();
    private final Map<String, AtomicInteger> inFlight = new ConcurrentHashMap<>();
    /** What the simulated I/O step records: everything (tests), an order check only (benchmarks), nothing. */
    public enum Mode { RECORD, CHECK, NONE }

    /** CHECK mode: the last seq handled per thread, and how often a thread's seq did not go up by one. */
    private final Map<String, long[]> lastSeen = new ConcurrentHashMap<>();
    public final AtomicInteger orderViolations = new AtomicInteger();
    public final java.util.concurrent.atomic.LongAdder handledCount = new java.util.concurrent.atomic.LongAdder();
    /** Total time the simulated I/O really took (scheduler wake-up included), to compare with its nominal time. */
    /** RECORD mode: the kinds of thread the handling step ran on, as "virtual|platform name-N". */
    public final java.util.Set<String> handlingThreads = ConcurrentHashMap.newKeySet();
    public final java.util.concurrent.atomic.LongAdder ioNanos = new java.util.concurrent.atomic.LongAdder();

    private final boolean record;
    private final Mode mode;
    private final org.apache.camel.AsyncProducer directProducer;
    private final ScheduledExecutorService io;

    public OrderingHarness(SeqStore store, Duration gapTimeout, int maxConcurrency, int maxPendingPerThread,
                           int maxPending, boolean record, int ioThreads) throws Exception {
        this(store, gapTimeout, maxConcurrency, maxPendingPerThread, maxPending, record ? Mode.RECORD : Mode.NONE, ioThreads);
    }

    public OrderingHarness(SeqStore store, Duration gapTimeout, int maxConcurrency, int maxPendingPerThread,
                           int maxPending, Mode mode, int ioThreads) throws Exception {
        this(store, gapTimeout, maxConcurrency, maxPendingPerThread, maxPending, mode, ioThreads, gate -> { });
    }

    /** @param setup configures the gate before it starts */
    public OrderingHarness(SeqStore store, Duration gapTimeout, int maxConcurrency, int maxPendingPerThread,
                           int maxPending, Mode mode, int ioThreads,
                           java.util.function.Consumer<KeyedResequencer> setup) throws Exception {
        this.mode = mode;
        this.record = mode == Mode.RECORD;
        this.io = Executors.newScheduledThreadPool(ioThreads, r -> {
            Thread t = new Thread(r, "simulated-io");
            t.setDaemon(true);
            return t;
        });
        gate = new KeyedResequencer(
                e -> e.getMessage().getHeader(THREAD, String.class),
                e -> e.getMessage().getHeader(SEQ, Long.class),
                store, gapTimeout, maxConcurrency, maxPendingPerThread, maxPending, meters);
        setup.accept(gate);
        camel.addRoutes(new RouteBuilder() {
            @Override
            public void configure() {
                from("direct:ordered").routeId("ordered-test")
                        .process(gate)
                        .process(new SimulatedIo());
            }
        });
        camel.start();
        producer = camel.createProducerTemplate();
        directProducer = camel.getEndpoint("direct:ordered").createAsyncProducer();
        directProducer.start();
    }

    /**
     * Sends one message asynchronously on the calling thread (no executor in between); the future
     * completes when its exchange is done. The call blocks only when the gate applies back-pressure.
     */
    public CompletableFuture<Exchange> send(String thread, Long seq, long ioMicros) {
        Exchange exchange = directProducer.getEndpoint().createExchange();
        exchange.getMessage().setHeader(THREAD, thread);
        exchange.getMessage().setHeader(SEQ, seq);
        exchange.getMessage().setHeader(IO_MICROS, ioMicros);
        CompletableFuture<Exchange> done = new CompletableFuture<>();
        directProducer.process(exchange, sync -> done.complete(exchange));
        return done;
    }

    public long gapsSkipped() {
        return (long) meters.get("ar.ordering.gaps.skipped").counter().count();
    }

    @Override
    public void close() {
        camel.stop();
        io.shutdownNow();
    }

    /** The rest of the pipeline replaced by an asynchronous I/O of the given duration. */
    private final class SimulatedIo extends AsyncProcessorSupport {
        @Override
        public boolean process(Exchange exchange, AsyncCallback callback) {
            String thread = exchange.getMessage().getHeader(THREAD, String.class);
            Long seq = exchange.getMessage().getHeader(SEQ, Long.class);
            if (Boolean.TRUE.equals(exchange.getProperty(Exchange.DUPLICATE_MESSAGE, Boolean.class))) {
                if (record) {
                    duplicates.computeIfAbsent(thread, k -> new CopyOnWriteArrayList<>()).add(seq);
                }
                callback.done(true);
                return true;
            }
            handledCount.increment();
            if (mode == Mode.CHECK && seq != null) {
                long[] last = lastSeen.computeIfAbsent(thread, k -> new long[1]);
                synchronized (last) {
                    if (seq != last[0] + 1) {
                        orderViolations.incrementAndGet();
                    }
                    last[0] = seq;
                }
            }
            AtomicInteger probe = null;
            if (record) {
                probe = inFlight.computeIfAbsent(thread, k -> new AtomicInteger());
                int now = probe.incrementAndGet();
                maxOverlap.accumulateAndGet(now, Math::max);
                handled.computeIfAbsent(thread, k -> new CopyOnWriteArrayList<>()).add(seq == null ? -1 : seq);
                handlingThreads.add((VirtualThreads.current() ? "virtual " : "platform ")
                        + Thread.currentThread().getName().replaceAll("\\d+$", "N"));
            }
            long micros = exchange.getMessage().getHeader(IO_MICROS, 0L, Long.class);
            AtomicInteger p = probe;
            long ioStart = System.nanoTime();
            io.schedule(() -> {
                ioNanos.add(System.nanoTime() - ioStart);
                if (p != null) {
                    p.decrementAndGet();
                }
                callback.done(false);
            }, micros, TimeUnit.MICROSECONDS);
            return false;
        }
    }
}
