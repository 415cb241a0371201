package io.asyncroutes.karaf;

import io.asyncroutes.chat.ChatRoutes;
import io.asyncroutes.chat.LlmClient;
import io.asyncroutes.cleanup.CleanupService;
import io.asyncroutes.cleanup.CleanupTask;
import io.asyncroutes.fetch.FetchRoutes;
import io.asyncroutes.fetch.HttpRetryConfiguration;
import io.asyncroutes.intake.InboundAcknowledgement;
import io.asyncroutes.intake.MessageValidator;
import io.asyncroutes.ordering.KeyedResequencer;
import io.asyncroutes.ordering.OrderingRoutes;
import io.asyncroutes.ordering.RedisSeqStore;
import io.asyncroutes.persistence.PersistRoutes;
import io.asyncroutes.pipeline.HandleRoutes;
import io.asyncroutes.settings.AppSettings;
import io.asyncroutes.state.HandledRecord;
import io.asyncroutes.state.MessageIdRepository;
import io.asyncroutes.state.RedisTtlSweep;
import io.asyncroutes.state.StateRoutes;
import io.asyncroutes.state.ThreadHistory;
import io.asyncroutes.support.SharedRouteConfigurations;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.URL;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Enumeration;
import java.util.List;
import java.util.Map;
import javax.sql.DataSource;
import org.apache.camel.component.platform.http.PlatformHttpComponent;
import org.apache.camel.component.platform.http.vertx.VertxPlatformHttpEngine;
import org.apache.camel.component.platform.http.vertx.VertxPlatformHttpServer;
import org.apache.camel.component.platform.http.vertx.VertxPlatformHttpServerConfiguration;
import org.apache.camel.component.sql.SqlComponent;
import org.apache.camel.karaf.core.OsgiCamelContextPublisher;
import org.apache.camel.karaf.core.OsgiClassResolver;
import org.apache.camel.karaf.core.OsgiDataFormatResolver;
import org.apache.camel.karaf.core.OsgiDefaultCamelContext;
import org.apache.camel.karaf.core.OsgiFactoryFinder;
import org.apache.camel.karaf.core.OsgiLanguageResolver;
import org.apache.camel.spi.DataFormatResolver;
import org.apache.camel.spi.LanguageResolver;
import org.apache.camel.spi.Resource;
import org.apache.camel.support.PluginHelper;
import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.data.redis.connection.RedisPassword;
import org.springframework.data.redis.connection.RedisStandaloneConfiguration;
import org.springframework.data.redis.connection.lettuce.LettuceClientConfiguration;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;
import org.springframework.data.redis.core.StringRedisTemplate;

/**
 * The OSGi wiring of the routes: what {@code config/AsyncRoutesConfiguration} and
 * {@code StateConfiguration} do for Spring Boot, done by a Declarative Services component.
 *
 * <p>Configured by PID {@code io.asyncroutes} ({@code etc/io.asyncroutes.cfg}); a change there
 * restarts the component, and with it the Camel context. It needs the message store as a
 * {@link DataSource} service: by default the one pax-jdbc-config makes from
 * {@code etc/org.ops4j.datasource-asyncroutes.cfg} ({@code dataSourceName=asyncroutes}); another is
 * chosen with {@code dataSource.target} in the cfg. The Camel context, named {@code async-routes},
 * is published as an OSGi service so Karaf's {@code camel:*} commands see it.
 */
@Component(name = "io.asyncroutes", configurationPid = "io.asyncroutes",
        configurationPolicy = ConfigurationPolicy.OPTIONAL, immediate = true)
public class AsyncRoutesComponent {

    private static final Logger LOG = LoggerFactory.getLogger(AsyncRoutesComponent.class);

    public static final String CONTEXT_NAME = "async-routes";

    @Reference(target = "(dataSourceName=asyncroutes)")
    private DataSource dataSource;

    private OsgiDefaultCamelContext camel;
    private LettuceConnectionFactory redis;
    private LlmClient llm;

    @Activate
    void activate(BundleContext bundleContext, Map<String, Object> config) throws Exception {
        // libraries that look classes up through the context class loader (Lettuce, Spring, Jackson
        // modules) must see this bundle's imports while the routes are built and started
        ClassLoader previous = Thread.currentThread().getContextClassLoader();
        Thread.currentThread().setContextClassLoader(getClass().getClassLoader());
        try {
            start(bundleContext, KarafSettings.from(config));
        } catch (Exception | LinkageError e) {
            LOG.error("async-routes did not start: {}", e.toString(), e);
            stop();
            throw e;
        } finally {
            Thread.currentThread().setContextClassLoader(previous);
        }
    }

    @Deactivate
    void deactivate() {
        stop();
    }

    private void start(BundleContext bundleContext, KarafSettings karaf) throws Exception {
        AppSettings settings = karaf.app();
        check(settings);
        karaf.unknownKeys().forEach(key -> LOG.warn("io.asyncroutes: unknown setting {} (ignored)", key));

        SchemaInitializer.ensureMessageStore(dataSource, getClass().getClassLoader());

        redis = redisConnectionFactory(karaf);
        StringRedisTemplate template = new StringRedisTemplate(redis);
        // fail here, with the address, rather than on the first message
        try {
            template.hasKey(settings.getRedis().getKeyPrefix() + "startup-check");
        } catch (RuntimeException e) {
            throw new IllegalStateException("Redis at " + karaf.string("redis.host") + ":" + karaf.string("redis.port")
                    + " is not reachable: " + e.getMessage(), e);
        }

        camel = newCamelContext(bundleContext);
        camel.getPropertiesComponent().setInitialProperties(karaf.camelProperties());
        camel.getManagementStrategy().addEventNotifier(new OsgiCamelContextPublisher(bundleContext));

        camel.getComponent("sql", SqlComponent.class).setDataSource(dataSource);
        camel.getComponent("platform-http", PlatformHttpComponent.class).setEngine(new VertxPlatformHttpEngine());
        VertxPlatformHttpServerConfiguration http = new VertxPlatformHttpServerConfiguration();
        http.setBindHost(karaf.string("http.host"));
        http.setBindPort(karaf.integer("http.port"));
        camel.addService(new VertxPlatformHttpServer(http));

        SimpleMeterRegistry meters = new SimpleMeterRegistry();
        MessageValidator validator = new MessageValidator(settings.getLimits());
        MessageIdRepository ids = new MessageIdRepository(template, settings.getRedis().getKeyPrefix() + "idem",
                settings.getIdempotency().getWindow());
        RedisSeqStore seqStore = new RedisSeqStore(template, settings.getRedis().getKeyPrefix(), settings.getOrdering().getStateTtl());
        KeyedResequencer gate = OrderingRoutes.forMessageResults(settings.getOrdering(), seqStore, meters);
        AppSettings.Redis r = settings.getRedis();
        ThreadHistory history = new ThreadHistory(template, r.getKeyPrefix(), r.getHistoryMaxTurns(), r.getHistoryTtl());

        camel.getRegistry().bind(PersistRoutes.ACKNOWLEDGEMENT, new InboundAcknowledgement(
                settings.getIntake().getRedeliveryDelay(), settings.getIntake().getRedeliveryMaxDelay()));
        List<CleanupTask> tasks = List.of(
                new RedisTtlSweep(template, Map.of(history.keyPattern(), history.ttl(),
                        r.getKeyPrefix() + "idem:*", settings.getIdempotency().getWindow())),
                idleOrderingState(gate));
        camel.getRegistry().bind("cleanupService", new CleanupService(settings.getRetention(), () -> tasks, meters));

        camel.addRoutes(new SharedRouteConfigurations(settings.getPersistence().getRetryInitialDelay(),
                settings.getPersistence().getRetryMaxDelay()));
        camel.addRoutes(new HttpRetryConfiguration(settings.getRetry()));
        camel.addRoutes(new HandleRoutes(validator, ids, settings));
        camel.addRoutes(new OrderingRoutes(gate));
        camel.addRoutes(new PersistRoutes(settings));
        camel.addRoutes(new StateRoutes(new HandledRecord(template, history, ids, seqStore)));
        camel.addRoutes(new FetchRoutes(settings.getFetch()));
        llm = new LlmClient(settings.getLlm());
        camel.addRoutes(new ChatRoutes(llm, history));
        camel.addRoutes(new KarafApiRoutes(validator, settings));
        PluginHelper.getRoutesLoader(camel).loadRoutes(yamlRoutes(bundleContext));

        camel.start();
        LOG.info("async-routes started: {} routes, HTTP on {}:{}, Redis {}:{}", camel.getRoutes().size(),
                karaf.string("http.host"), karaf.string("http.port"), karaf.string("redis.host"), karaf.string("redis.port"));
    }

    /** What has no Karaf counterpart fails the activation with the reason, rather than being half-honoured. */
    private static void check(AppSettings settings) {
        if (settings.getRedis().isEmbedded()) {
            throw new IllegalArgumentException("app.redis.embedded=true: there is no embedded Redis in Karaf;"
                    + " set it to false and point redis.host/redis.port at a Redis server");
        }
        if (settings.getCleanup().isClustered()) {
            throw new IllegalArgumentException("app.cleanup.clustered=true is not supported in Karaf"
                    + " (Quartz's JDBC job store is not wired here); each Karaf instance runs its own cleanup tick");
        }
        String key = settings.getSecurity().getApiKey();
        if (settings.getSecurity().isRequireApiKey() && (key == null || key.isBlank())) {
            throw new IllegalArgumentException("app.security.api-key must be set: app.security.require-api-key is true");
        }
    }

    private OsgiDefaultCamelContext newCamelContext(BundleContext bundleContext) {
        // as camel-karaf's own DS example does: resolvers that look components, languages, data
        // formats and route loaders (YAML) up in the other bundles
        OsgiDefaultCamelContext context = new OsgiDefaultCamelContext(bundleContext);
        OsgiClassResolver resolver = new OsgiClassResolver(context, bundleContext);
        context.setClassResolver(resolver);
        context.getCamelContextExtension().addContextPlugin(DataFormatResolver.class, new OsgiDataFormatResolver(bundleContext));
        context.getCamelContextExtension().addContextPlugin(LanguageResolver.class, new OsgiLanguageResolver(bundleContext));
        context.getCamelContextExtension().setBootstrapFactoryFinder(
                new OsgiFactoryFinder(bundleContext, resolver, "META-INF/services/org/apache/camel/"));
        context.getCamelContextExtension().setName(CONTEXT_NAME);
        // the management name is the context name, not OSGi's "<bundle>-<name>": cleanup-expired's
        // Quartz job (usingFixedCamelContextName) finds its context under the name alone, and
        // camel-quartz registers the context with the scheduler under the management name
        context.getManagementNameStrategy().setNamePattern("#name#");
        // the same grace period as the Spring Boot application (camel.main.shutdown-timeout)
        context.getShutdownStrategy().setTimeout(30);
        return context;
    }

    private static LettuceConnectionFactory redisConnectionFactory(KarafSettings karaf) {
        RedisStandaloneConfiguration server = new RedisStandaloneConfiguration(karaf.string("redis.host"), karaf.integer("redis.port"));
        server.setDatabase(karaf.integer("redis.database"));
        if (!karaf.string("redis.password").isEmpty()) {
            server.setPassword(RedisPassword.of(karaf.string("redis.password")));
        }
        Duration timeout = karaf.duration("redis.timeout");
        LettuceConnectionFactory factory = new LettuceConnectionFactory(server,
                LettuceClientConfiguration.builder().commandTimeout(timeout).build());
        factory.afterPropertiesSet();
        return factory;
    }

    private static CleanupTask idleOrderingState(KeyedResequencer gate) {
        return new CleanupTask() {
            @Override
            public String name() {
                return "ordering-state";
            }

            @Override
            public long cleanup(Instant now) {
                return gate.evictIdle(now);
            }
        };
    }

    /** The YAML routes packed into the bundle under routes/. */
    private List<Resource> yamlRoutes(BundleContext bundleContext) {
        Enumeration<URL> entries = bundleContext.getBundle().findEntries("routes", "*.yaml", false);
        List<Resource> resources = new ArrayList<>();
        for (URL url : entries == null ? Collections.<URL>emptyList() : Collections.list(entries)) {
            String path = url.getPath().startsWith("/") ? url.getPath().substring(1) : url.getPath();
            resources.add(PluginHelper.getResourceLoader(camel).resolveResource("classpath:" + path));
        }
        if (resources.isEmpty()) {
            throw new IllegalStateException("no YAML routes found in the bundle under routes/");
        }
        return resources;
    }

    private synchronized void stop() {
        if (camel != null) {
            try {
                camel.stop();
            } catch (RuntimeException e) {
                LOG.warn("Stopping the Camel context failed: {}", e.toString());
            }
            camel = null;
        }
        if (llm != null) {
            llm.close();
            llm = null;
        }
        if (redis != null) {
            redis.destroy();
            redis = null;
        }
    }
}
