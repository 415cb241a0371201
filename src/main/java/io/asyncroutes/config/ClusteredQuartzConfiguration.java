package io.asyncroutes.config;

import io.asyncroutes.settings.AppSettings;
import java.net.InetAddress;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import javax.sql.DataSource;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.autoconfigure.quartz.SchedulerFactoryBeanCustomizer;
import org.springframework.boot.context.properties.bind.Bindable;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.jdbc.DatabaseDriver;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.env.Environment;
import org.springframework.transaction.PlatformTransactionManager;

/**
 * {@code app.cleanup.clustered=true}: the Quartz scheduler (Spring Boot's, which the Camel
 * {@code quartz} component autowires) keeps its jobs and triggers in the application database
 * (tables from Flyway migration V2__quartz.sql) and runs clustered, so each tick of
 * {@code cleanup-expired} fires on exactly one instance and another instance takes over when one
 * stops. Every instance must use the same database and scheduler name
 * ({@code spring.quartz.scheduler-name}); instance ids are unique per process.
 */
@Configuration(proxyBeanMethods = false)
@ConditionalOnProperty(name = "app.cleanup.clustered", havingValue = "true")
public class ClusteredQuartzConfiguration {

    @Bean
    public SchedulerFactoryBeanCustomizer clusteredJobStore(DataSource dataSource,
                                                            ObjectProvider<PlatformTransactionManager> transactions,
                                                            AppSettings settings, Environment env) {
        return factory -> {
            factory.setDataSource(dataSource); // Spring's LocalDataSourceJobStore (a JobStoreCMT) on our pool
            transactions.ifUnique(factory::setTransactionManager);
            // spring.quartz.properties.* stay in force and win over the defaults below
            Properties quartz = new Properties();
            quartz.putAll(Binder.get(env).bind("spring.quartz.properties", Bindable.mapOf(String.class, String.class))
                    .orElse(Map.of()));
            quartz.setProperty("org.quartz.jobStore.isClustered", "true");
            quartz.putIfAbsent("org.quartz.jobStore.clusterCheckinInterval",
                    String.valueOf(settings.getCleanup().getClusterCheckinInterval().toMillis()));
            quartz.putIfAbsent("org.quartz.jobStore.driverDelegateClass", delegate(env.getProperty("spring.datasource.url")));
            quartz.putIfAbsent("org.quartz.jobStore.tablePrefix", "qrtz_");
            // job data as strings, not Java-serialized objects (Camel's job data is strings only)
            quartz.putIfAbsent("org.quartz.jobStore.useProperties", "true");
            quartz.putIfAbsent("org.quartz.scheduler.instanceId", instanceId());
            quartz.putIfAbsent("org.quartz.threadPool.threadCount", "2");
            factory.setQuartzProperties(quartz);
        };
    }

    /** PostgreSQL stores job data as BYTEA and needs its own delegate; H2 (PostgreSQL mode) works with the standard one. */
    static String delegate(String jdbcUrl) {
        return jdbcUrl != null && DatabaseDriver.fromJdbcUrl(jdbcUrl) == DatabaseDriver.POSTGRESQL
                ? "org.quartz.impl.jdbcjobstore.PostgreSQLDelegate"
                : "org.quartz.impl.jdbcjobstore.StdJDBCDelegate";
    }

    /** Unique per process, readable in QRTZ_SCHEDULER_STATE (Quartz's AUTO id can repeat within one millisecond). */
    private static String instanceId() {
        String host;
        try {
            host = InetAddress.getLocalHost().getHostName();
        } catch (Exception e) {
            host = "host";
        }
        return host + "-" + ProcessHandle.current().pid() + "-" + UUID.randomUUID().toString().substring(0, 8);
    }
}
