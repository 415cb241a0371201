package io.asyncroutes.cluster;

import io.asyncroutes.support.DaemonThreads;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.camel.CamelContext;
import org.apache.camel.Exchange;
import org.apache.camel.Processor;
import org.apache.camel.support.SynchronizationAdapter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Balanced ownership of the inbound partition queues among the live instances (issue #13). Every
 * {@code heartbeat-interval} an instance renews its membership ({@link PartitionLeases}), computes
 * the target owner of each partition from the sorted live members ({@link PartitionAssignment}),
 * and then:
 * <ul>
 *   <li>for a partition assigned to it whose lease is free: takes the lease and starts that
 *   partition's consumer route ({@code intake-queue-<n>});</li>
 *   <li>for a partition it owns but that is now assigned elsewhere (a member joined), or whose
 *   lease it lost: <b>gives it up between messages</b>. It stops admitting the partition's
 *   deliveries (one delivered from now on is left unacknowledged and not handled: it goes back to
 *   the queue, in its place, when the consumer's channel closes), waits until every message it had
 *   admitted has completed and been acknowledged, stops the route, and only then deletes the lease.
 *   The next owner subscribes after that, so one thread's messages are never handled on two
 *   instances at once and none is handled twice;</li>
 *   <li>renews the leases of everything it owns or is giving up.</li>
 * </ul>
 * A killed instance's leases and membership run out after {@code lease-ttl}; the broker has put
 * its unacknowledged messages back already, and the survivors take its partitions. The queues stay
 * single-active-consumer: should two instances ever subscribe to one queue (a lease lost in a long
 * pause), the broker still lets only one of them consume, so per-thread order holds even then.
 *
 * <p>Camel-aware but free of Spring: the thin {@code config/PartitionOwnershipConfiguration} builds it.
 */
public class PartitionOwnership {

    private static final Logger LOG = LoggerFactory.getLogger(PartitionOwnership.class);

    enum State { IDLE, OWNED, RELEASING }

    /** camel-spring-rabbitmq: the broker's redelivered flag. */
    static final String REDELIVERED = "CamelSpringRabbitmqRedelivered";

    private final CamelContext camel;
    private final PartitionLeases leases;
    private final String instanceId;
    private final List<String> routeIds;
    private final Duration heartbeatInterval;
    private final Duration leaseTtl;
    private final Duration drainTimeout;
    private final Runnable flushAcknowledgements;
    private final Partition[] partitions;
    private final Counter acquired;
    private final Counter released;
    private final Counter lost;
    private volatile List<String> members = List.of();
    private volatile ScheduledExecutorService ticker;
    private volatile ExecutorService drains;
    private boolean redisFailing;

    /**
     * @param routeIds one consumer route per partition, index = partition number, not auto-started
     * @param flushAcknowledgements sends at once the acknowledgements still lingering in the ack windows
     */
    public PartitionOwnership(CamelContext camel, PartitionLeases leases, String instanceId, List<String> routeIds,
                              Duration heartbeatInterval, Duration leaseTtl, Duration drainTimeout,
                              Runnable flushAcknowledgements, MeterRegistry meters) {
        if (leaseTtl.compareTo(heartbeatInterval.multipliedBy(2)) < 0) {
            throw new IllegalArgumentException("app.partitions.lease-ttl (" + leaseTtl
                    + ") must be at least twice app.partitions.heartbeat-interval (" + heartbeatInterval + ")");
        }
        this.camel = camel;
        this.leases = leases;
        this.instanceId = PartitionLeases.requireValidInstanceId(instanceId);
        this.routeIds = List.copyOf(routeIds);
        this.heartbeatInterval = heartbeatInterval;
        this.leaseTtl = leaseTtl;
        this.drainTimeout = drainTimeout;
        this.flushAcknowledgements = flushAcknowledgements;
        this.partitions = new Partition[routeIds.size()];
        for (int p = 0; p < partitions.length; p++) {
            partitions[p] = new Partition(p, Counter.builder("ar.intake.partition.messages")
                    .description("Inbound messages handled by this instance, per partition")
                    .tag("partition", Integer.toString(p)).register(meters));
        }
        Gauge.builder("ar.partitions.owned", this, o -> o.owned().size())
                .description("Inbound partitions this instance owns (consumes)").register(meters);
        acquired = Counter.builder("ar.partitions.handovers").tag("kind", "acquired").register(meters);
        released = Counter.builder("ar.partitions.handovers").tag("kind", "released").register(meters);
        lost = Counter.builder("ar.partitions.handovers").tag("kind", "lost").register(meters);
    }

    public String instanceId() {
        return instanceId;
    }

    public int partitionCount() {
        return partitions.length;
    }

    /**
     * The first step of partition {@code p}'s route, in place of the acknowledgement step: admits the
     * delivery (then acknowledged on completion by {@code acknowledgement}) while the partition is
     * owned; once it is being given up, leaves the delivery unacknowledged and ends its exchange.
     */
    public Processor intake(int p, Processor acknowledgement) {
        Partition partition = partitions[p];
        return exchange -> {
            partition.inflight.incrementAndGet(); // before the check: a release that began meanwhile waits for it
            // a redelivery during the drain is most likely a message this instance handed back after
            // a failure, whose successors wait for it in this instance's gate: it is let in, or they
            // would skip it after the gap timeout and it would come late on the next owner
            if (!partition.admitting && !Boolean.TRUE.equals(exchange.getMessage().getHeader(REDELIVERED, Boolean.class))) {
                partition.done();
                exchange.setRouteStop(true); // unacknowledged: back on the queue when the channel closes
                return;
            }
            // added before the acknowledgement's: completions of equal order run last-added first,
            // so this one runs after the message has been settled
            exchange.getExchangeExtension().addOnCompletion(partition.completion);
            acknowledgement.process(exchange);
        };
    }

    public synchronized void start() {
        if (ticker != null) {
            return;
        }
        drains = Executors.newCachedThreadPool(DaemonThreads.named("ar-partition-drain"));
        ticker = Executors.newSingleThreadScheduledExecutor(DaemonThreads.named("ar-partitions"));
        ticker.scheduleWithFixedDelay(this::tick, 0, heartbeatInterval.toMillis(), TimeUnit.MILLISECONDS);
        LOG.info("Instance {} takes part in the ownership of {} inbound partitions", instanceId, partitions.length);
    }

    /** Gives every partition up (draining each) and leaves the membership: the others take over at once. */
    public void stop() {
        ScheduledExecutorService t;
        synchronized (this) {
            t = ticker;
            ticker = null;
        }
        if (t == null) {
            return;
        }
        t.shutdown();
        try {
            t.awaitTermination(10, TimeUnit.SECONDS);
            List<java.util.concurrent.Future<?>> releases = new ArrayList<>();
            for (Partition partition : partitions) {
                if (partition.state == State.OWNED) {
                    beginRelease(partition, "instance stopping");
                }
                if (partition.release != null) {
                    releases.add(partition.release); // begun now or by an earlier heartbeat
                }
            }
            // the leases of partitions still draining stay renewed meanwhile
            ScheduledExecutorService renewing = Executors.newSingleThreadScheduledExecutor(DaemonThreads.named("ar-partitions-stop"));
            renewing.scheduleWithFixedDelay(this::renewHeld, heartbeatInterval.toMillis(), heartbeatInterval.toMillis(),
                    TimeUnit.MILLISECONDS);
            try {
                for (var release : releases) {
                    release.get(drainTimeout.toMillis() + 15_000, TimeUnit.MILLISECONDS);
                }
            } finally {
                renewing.shutdownNow();
            }
            leases.leave(instanceId);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Exception e) {
            LOG.warn("Partitions not all given up cleanly on stop (their leases run out after {}): {}", leaseTtl, e.toString());
        } finally {
            drains.shutdownNow();
        }
    }

    /** One heartbeat: membership, then each partition's lease and consumer. */
    void tick() {
        try {
            List<String> live = leases.heartbeat(instanceId);
            members = live;
            List<String> targets = live.isEmpty() ? null : PartitionAssignment.assign(partitions.length, live);
            for (Partition partition : partitions) {
                tick(partition, targets == null ? null : targets.get(partition.number));
            }
            if (redisFailing) {
                LOG.info("Partition leases: Redis answers again");
                redisFailing = false;
            }
        } catch (RuntimeException e) {
            // Redis down: keep consuming what we own (the pipeline waits for Redis anyway). Should
            // another instance take a lease meanwhile, single-active-consumer keeps it a standby
            // until our next heartbeat finds the lease lost and drains
            if (!redisFailing) {
                LOG.warn("Partition leases: cannot reach Redis ({}); ownership unchanged until it answers", e.toString());
                redisFailing = true;
            }
        }
    }

    private void tick(Partition partition, String target) {
        int p = partition.number;
        switch (partition.state) {
            case OWNED -> {
                if (!leases.renew(p, instanceId)) {
                    lost.increment();
                    beginRelease(partition, "lease lost");
                } else {
                    if (!instanceId.equals(target)) {
                        beginRelease(partition, "assigned to " + target);
                    }
                }
            }
            case RELEASING -> leases.renew(p, instanceId);
            case IDLE -> {
                if (instanceId.equals(target) && leases.acquire(p, instanceId)) {
                    try {
                        partition.admitting = true;
                        camel.getRouteController().startRoute(routeIds.get(p));
                        partition.state = State.OWNED;
                        acquired.increment();
                        LOG.info("Partition {} ({}): owned by {}", p, routeIds.get(p), instanceId);
                    } catch (Exception e) {
                        partition.admitting = false;
                        leases.release(p, instanceId);
                        LOG.warn("Partition {}: could not start {}, lease given back: {}", p, routeIds.get(p), e.toString());
                    }
                }
            }
        }
    }

    private void renewHeld() {
        try {
            for (Partition partition : partitions) {
                if (partition.state != State.IDLE) {
                    leases.renew(partition.number, instanceId);
                }
            }
        } catch (RuntimeException e) {
            LOG.debug("Could not renew leases while stopping: {}", e.toString());
        }
    }

    private void beginRelease(Partition partition, String why) {
        partition.state = State.RELEASING;
        partition.admitting = false;
        LOG.info("Partition {}: giving it up ({}), draining {} messages in flight", partition.number, why, partition.inflight.get());
        partition.release = drains.submit(() -> release(partition));
    }

    /** Drain, settle, stop the consumer, then free the lease: the next owner starts after all of it. */
    private void release(Partition partition) {
        int p = partition.number;
        long started = System.nanoTime();
        try {
            boolean drained = partition.awaitDrained(drainTimeout);
            if (!drained) {
                LOG.warn("Partition {}: {} messages still in flight after {}: its consumer stops anyway, they are redelivered",
                        p, partition.inflight.get(), drainTimeout);
            }
            flushAcknowledgements.run();
            camel.getRouteController().stopRoute(routeIds.get(p), 10, TimeUnit.SECONDS);
        } catch (Exception e) {
            LOG.warn("Partition {}: stopping {} failed: {}", p, routeIds.get(p), e.toString());
        } finally {
            try {
                leases.release(p, instanceId);
            } catch (RuntimeException e) {
                LOG.warn("Partition {}: lease not deleted, it runs out after {}: {}", p, leaseTtl, e.toString());
            }
            partition.state = State.IDLE;
            released.increment();
            LOG.info("Partition {}: given up after {} ms", p, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started));
        }
    }

    /** Partitions this instance consumes now. */
    public List<Integer> owned() {
        List<Integer> owned = new ArrayList<>();
        for (Partition partition : partitions) {
            if (partition.state == State.OWNED) {
                owned.add(partition.number);
            }
        }
        return owned;
    }

    /** Partitions this instance is giving up (draining). */
    public List<Integer> releasing() {
        List<Integer> releasing = new ArrayList<>();
        for (Partition partition : partitions) {
            if (partition.state == State.RELEASING) {
                releasing.add(partition.number);
            }
        }
        return releasing;
    }

    /** The live members as of the last heartbeat, sorted. */
    public List<String> members() {
        return members;
    }

    /** Every partition's lease holder as stored in Redis ({@code "-"} where none). */
    public Map<Integer, String> owners() {
        List<String> holders = leases.owners(partitions.length);
        Map<Integer, String> owners = new TreeMap<>();
        for (int p = 0; p < partitions.length; p++) {
            String holder = holders.get(p);
            owners.put(p, holder == null ? "-" : holder);
        }
        return owners;
    }

    private static final class Partition {
        final int number;
        final Counter handled;
        /** Admitted deliveries whose exchange has not completed (and been settled) yet. */
        final AtomicInteger inflight = new AtomicInteger();
        volatile boolean admitting;
        volatile State state = State.IDLE;
        /** The hand-over under way or last done. */
        volatile java.util.concurrent.Future<?> release;
        final SynchronizationAdapter completion;

        Partition(int number, Counter handled) {
            this.number = number;
            this.handled = handled;
            this.completion = new SynchronizationAdapter() {
                @Override
                public void onComplete(Exchange exchange) {
                    Partition.this.handled.increment();
                    done();
                }

                @Override
                public void onFailure(Exchange exchange) {
                    done();
                }

                @Override
                public boolean allowHandover() {
                    return false; // the delivered exchange completes it, not a copy
                }

                @Override
                public int getOrder() {
                    return LOWEST;
                }
            };
        }

        void done() {
            if (inflight.decrementAndGet() == 0 && !admitting) {
                synchronized (this) {
                    notifyAll();
                }
            }
        }

        synchronized boolean awaitDrained(Duration timeout) throws InterruptedException {
            long deadline = System.nanoTime() + timeout.toNanos();
            while (inflight.get() > 0) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return false;
                }
                TimeUnit.NANOSECONDS.timedWait(this, left);
            }
            return true;
        }
    }
}
