package io.asyncroutes.cluster;

import io.asyncroutes.support.SharedRouteConfigurations;
import java.net.URISyntaxException;
import java.util.List;
import java.util.Map;
import org.apache.camel.Processor;
import org.apache.camel.builder.RouteBuilder;
import org.apache.camel.util.URISupport;

/**
 * Queue intake with balanced partitions (issue #13, {@code app.partitions.enabled}): one consumer
 * route per inbound partition queue, {@code intake-queue-<n>} on queue {@code n} of
 * {@code app.rabbitmq.inbound-queues}, not started with the context: {@link PartitionOwnership}
 * starts it on the instance that holds the partition's lease and stops it there once drained. Each
 * route does what {@code intake-queue} (routes/intake.yaml) does for all queues at once: settle the
 * delivery on completion and hand it to {@code handle-message}.
 */
public class PartitionIntakeRoutes extends RouteBuilder {

    public static final String ROUTE_ID_PREFIX = "intake-queue-";

    private final String inboundUri;
    private final List<String> queues;
    private final PartitionOwnership ownership;
    private final Processor acknowledgement;

    /**
     * @param inboundUri the consumer URI of all partitions ({@code app.endpoints.inbound}); its
     *                   {@code queues} option is replaced by one queue per route
     */
    public PartitionIntakeRoutes(String inboundUri, List<String> queues, PartitionOwnership ownership,
                                 Processor acknowledgement) {
        if (queues.size() != ownership.partitionCount()) {
            throw new IllegalArgumentException(queues.size() + " queues for " + ownership.partitionCount() + " partitions");
        }
        this.inboundUri = inboundUri;
        this.queues = List.copyOf(queues);
        this.ownership = ownership;
        this.acknowledgement = acknowledgement;
    }

    public static String routeId(int partition) {
        return ROUTE_ID_PREFIX + partition;
    }

    /** {@code uri} consuming only {@code queue}. */
    static String forQueue(String uri, String queue) {
        int q = uri.indexOf('?');
        String base = q < 0 ? uri : uri.substring(0, q);
        try {
            Map<String, Object> options = URISupport.parseQuery(q < 0 ? "" : uri.substring(q + 1));
            options.put("queues", queue);
            return base + "?" + URISupport.createQueryString(options);
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException("app.endpoints.inbound is not a valid endpoint URI: " + e.getMessage(), e);
        }
    }

    @Override
    public void configure() {
        for (int p = 0; p < queues.size(); p++) {
            from(forQueue(inboundUri, queues.get(p))).routeId(routeId(p))
                    .routeConfigurationId(SharedRouteConfigurations.INTAKE)
                    .autoStartup(false)
                    // admitted while owned, then acknowledged on completion; left unacknowledged while given up
                    .process(ownership.intake(p, acknowledgement))
                    .to("direct:handle-message");
        }
    }
}
