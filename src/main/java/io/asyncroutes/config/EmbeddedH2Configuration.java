package io.asyncroutes.config;

import io.asyncroutes.persistence.H2StoreCompaction;
import io.asyncroutes.settings.AppSettings;
import javax.sql.DataSource;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnExpression;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * The default profile's H2 file database: its store compaction ({@link H2StoreCompaction}), which
 * {@code WRITE_DELAY=0} takes away from H2 itself. Nothing here for PostgreSQL or an in-memory H2.
 */
@Configuration(proxyBeanMethods = false)
@ConditionalOnClass(name = "org.h2.mvstore.MVStore")
@ConditionalOnExpression("'${spring.datasource.url:}'.startsWith('jdbc:h2:file:')")
public class EmbeddedH2Configuration {

    @Bean(initMethod = "start", destroyMethod = "stop")
    public H2StoreCompaction h2StoreCompaction(DataSource dataSource, AppSettings settings) {
        return new H2StoreCompaction(dataSource, settings.getPersistence().getH2CompactionInterval());
    }
}
