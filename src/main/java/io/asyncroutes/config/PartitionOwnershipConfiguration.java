package io.asyncroutes.config;

import io.asyncroutes.cluster.PartitionIntakeRoutes;
import io.asyncroutes.cluster.PartitionLeases;
import io.asyncroutes.cluster.PartitionOwnership;
import io.asyncroutes.intake.InboundAcknowledgement;
import io.asyncroutes.persistence.PersistRoutes;
import io.asyncroutes.settings.AppSettings;
import io.asyncroutes.support.ContextLifecycleNotifier;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;
import org.apache.camel.CamelContext;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.boot.actuate.health.Health;
import org.springframework.boot.actuate.health.HealthIndicator;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.data.redis.core.StringRedisTemplate;

/**
 * Balanced partition ownership ({@code app.partitions.enabled}, on in {@code services}): the
 * thin Spring layer over {@link PartitionOwnership} and {@link PartitionIntakeRoutes}. Ownership
 * starts once the Camel context has started and ends (every partition drained and given up) when
 * the context begins to stop, before the routes shut down. Route {@code intake-queue}
 * (routes/intake.yaml) is left out by its precondition meanwhile.
 */
@Configuration(proxyBeanMethods = false)
@ConditionalOnProperty(name = "app.partitions.enabled", havingValue = "true")
public class PartitionOwnershipConfiguration {

    @Bean
    public PartitionLeases partitionLeases(StringRedisTemplate redis, AppSettings settings) {
        return new PartitionLeases(redis, settings.getRedis().getKeyPrefix(), settings.getPartitions().getLeaseTtl());
    }

    @Bean
    public PartitionOwnership partitionOwnership(CamelContext camel, PartitionLeases partitionLeases, AppSettings settings,
                                                 @Qualifier(PersistRoutes.ACKNOWLEDGEMENT) InboundAcknowledgement acknowledgement,
                                                 ObjectProvider<MeterRegistry> meters) {
        AppSettings.Partitions p = settings.getPartitions();
        int count = inboundQueues(settings).size();
        List<String> routeIds = IntStream.range(0, count).mapToObj(PartitionIntakeRoutes::routeId).toList();
        return new PartitionOwnership(camel, partitionLeases, instanceId(p.getInstanceId()), routeIds,
                p.getHeartbeatInterval(), p.getLeaseTtl(), p.getDrainTimeout(), acknowledgement::flushAcknowledgements,
                meters.getIfAvailable(SimpleMeterRegistry::new));
    }

    @Bean
    public PartitionIntakeRoutes partitionIntakeRoutes(PartitionOwnership partitionOwnership, AppSettings settings,
                                                       @Qualifier(PersistRoutes.ACKNOWLEDGEMENT) InboundAcknowledgement acknowledgement) {
        return new PartitionIntakeRoutes(settings.getEndpoints().getInbound(), inboundQueues(settings),
                partitionOwnership, acknowledgement);
    }

    /**
     * Ownership starts once the context has started; when it begins to stop, the pipeline still
     * runs, so what was admitted completes and is acknowledged. An event notifier bean, which Camel
     * registers while it builds the context (so {@code PartitionOwnership}, which needs the context,
     * is looked up when the event comes), and which asks for no exchange events.
     */
    @Bean
    public ContextLifecycleNotifier partitionOwnershipLifecycle(ObjectProvider<PartitionOwnership> partitionOwnership) {
        return new ContextLifecycleNotifier(camel -> partitionOwnership.getObject().start(),
                camel -> partitionOwnership.getObject().stop());
    }

    /** {@code /actuator/health} → {@code partitions}: who this is, who is alive, who owns which partition. */
    @Bean
    public HealthIndicator partitionsHealthIndicator(PartitionOwnership partitionOwnership) {
        return () -> {
            Map<String, Object> details = new LinkedHashMap<>();
            details.put("instance", partitionOwnership.instanceId());
            details.put("members", partitionOwnership.members());
            details.put("owned", partitionOwnership.owned());
            details.put("releasing", partitionOwnership.releasing());
            try {
                details.put("owners", partitionOwnership.owners());
            } catch (RuntimeException e) {
                details.put("owners", "unknown: " + e.getMessage()); // Redis down: its own indicator says so
            }
            return Health.up().withDetails(details).build();
        };
    }

    static List<String> inboundQueues(AppSettings settings) {
        return RabbitPartitionsConfiguration.queueNames(settings.getRabbitmq().getInboundQueues());
    }

    /** The configured id, validated (it is written to Redis), or {@code <host>-<pid>-<random>}. */
    static String instanceId(String configured) {
        if (configured != null && !configured.isBlank()) {
            return PartitionLeases.requireValidInstanceId(configured.trim());
        }
        String host;
        try {
            host = java.net.InetAddress.getLocalHost().getHostName();
        } catch (java.io.IOException e) {
            host = "host";
        }
        host = host.replaceAll("[^A-Za-z0-9._-]", "_");
        host = host.substring(0, Math.min(host.length(), 80));
        String random = Integer.toHexString(java.util.concurrent.ThreadLocalRandom.current().nextInt(0x10000) | 0x10000).substring(1);
        return host + "-" + ProcessHandle.current().pid() + "-" + random;
    }
}
