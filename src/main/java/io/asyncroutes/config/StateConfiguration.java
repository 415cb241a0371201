package io.asyncroutes.config;

import io.asyncroutes.cleanup.CleanupService;
import io.asyncroutes.cleanup.CleanupTask;
import io.asyncroutes.ordering.RedisSeqStore;
import io.asyncroutes.settings.AppSettings;
import io.asyncroutes.state.HandledRecord;
import io.asyncroutes.state.MessageIdRepository;
import io.asyncroutes.state.RedisTtlSweep;
import io.asyncroutes.state.StateRoutes;
import io.asyncroutes.state.ThreadHistory;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.Map;
import org.apache.camel.CamelContext;
import org.apache.camel.component.quartz.QuartzConstants;
import org.apache.camel.spring.boot.CamelContextConfiguration;
import org.quartz.Scheduler;
import org.quartz.SchedulerException;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.data.redis.core.StringRedisTemplate;

/**
 * Thread state in Redis and the cleanup job's beans. The Redis connection factory itself is
 * Spring Boot's (Lettuce): connected when the context starts, closed when it stops.
 * Route {@code cleanup-expired} (routes/cleanup.yaml) refers to {@code cleanupService} by name.
 */
@Configuration(proxyBeanMethods = false)
public class StateConfiguration {

    @Bean
    public ThreadHistory threadHistory(StringRedisTemplate redis, AppSettings settings) {
        AppSettings.Redis r = settings.getRedis();
        return new ThreadHistory(redis, r.getKeyPrefix(), r.getHistoryMaxTurns(), r.getHistoryTtl());
    }

    /** Idempotent intake keys {@code <prefix>idem:<id>} with a TTL of the idempotency window. */
    @Bean
    public MessageIdRepository messageIdRepository(StringRedisTemplate redis, AppSettings settings) {
        return new MessageIdRepository(redis, settings.getRedis().getKeyPrefix() + "idem", settings.getIdempotency().getWindow());
    }

    /** Last handled seq per thread: {@code <prefix>seq:<threadId>} with a TTL. */
    @Bean
    public RedisSeqStore orderingSeqStore(StringRedisTemplate redis, AppSettings settings) {
        return new RedisSeqStore(redis, settings.getRedis().getKeyPrefix(), settings.getOrdering().getStateTtl());
    }

    @Bean
    public HandledRecord handledRecord(StringRedisTemplate redis, ThreadHistory threadHistory, MessageIdRepository messageIdRepository,
                                       RedisSeqStore orderingSeqStore) {
        return new HandledRecord(redis, threadHistory, messageIdRepository, orderingSeqStore);
    }

    @Bean
    public StateRoutes stateRoutes(HandledRecord handledRecord) {
        return new StateRoutes(handledRecord);
    }

    /** Our key families and the TTL a key of each gets if it somehow has none. */
    @Bean
    public RedisTtlSweep redisTtlSweep(StringRedisTemplate redis, ThreadHistory history, AppSettings settings) {
        return new RedisTtlSweep(redis, Map.of(
                history.keyPattern(), history.ttl(),
                settings.getRedis().getKeyPrefix() + "idem:*", settings.getIdempotency().getWindow()));
    }

    /**
     * Route {@code cleanup-expired} stores the context's <em>name</em> in its Quartz job data
     * ({@code usingFixedCamelContextName}), the same on every instance of a cluster, while the
     * component registers the context in the scheduler under its JMX management name, which gets
     * a suffix when several contexts share a JVM. Registering it under the name too lets any
     * instance run a job that another instance stored.
     */
    @Bean
    public CamelContextConfiguration quartzJobsFindContextByName(ObjectProvider<Scheduler> scheduler) {
        return new CamelContextConfiguration() {
            @Override
            public void beforeApplicationStart(CamelContext camel) {
                Scheduler quartz = scheduler.getIfUnique();
                if (quartz != null) {
                    try {
                        quartz.getContext().put(QuartzConstants.QUARTZ_CAMEL_CONTEXT + "-" + camel.getName(), camel);
                    } catch (SchedulerException e) {
                        throw new IllegalStateException("cannot register the Camel context with Quartz", e);
                    }
                }
            }

            @Override
            public void afterApplicationStart(CamelContext camel) {
            }
        };
    }

    @Bean
    public CleanupService cleanupService(AppSettings settings, ObjectProvider<CleanupTask> tasks,
                                         ObjectProvider<MeterRegistry> meters) {
        return new CleanupService(settings.getRetention(), () -> tasks.orderedStream().toList(),
                meters.getIfAvailable(SimpleMeterRegistry::new));
    }
}
