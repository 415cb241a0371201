package io.asyncroutes.cleanup;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.asyncroutes.config.ClusteredQuartzConfiguration;
import io.asyncroutes.settings.AppSettings;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.quartz.CronScheduleBuilder;
import org.quartz.Job;
import org.quartz.JobBuilder;
import org.quartz.JobExecutionContext;
import org.quartz.Scheduler;
import org.quartz.TriggerBuilder;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.autoconfigure.ImportAutoConfiguration;
import org.springframework.boot.autoconfigure.flyway.FlywayAutoConfiguration;
import org.springframework.boot.autoconfigure.jdbc.DataSourceAutoConfiguration;
import org.springframework.boot.autoconfigure.jdbc.DataSourceTransactionManagerAutoConfiguration;
import org.springframework.boot.autoconfigure.quartz.QuartzAutoConfiguration;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.context.properties.bind.Bindable;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.Import;
import org.springframework.core.env.Environment;
import org.springframework.jdbc.core.JdbcTemplate;

/**
 * The clustered job store on H2 (PostgreSQL mode, as the embedded default uses it): the V2 Quartz
 * tables accept what {@code StdJDBCDelegate} writes (BYTEA as VARBINARY, BOOLEAN), job data as
 * string properties, and a cron trigger fires repeatedly. PostgreSQL is covered by TwoInstancesTest.
 */
class ClusteredJobStoreOnH2Test {

    static final AtomicInteger RUNS = new AtomicInteger();

    public static class CountingJob implements Job {
        @Override
        public void execute(JobExecutionContext context) {
            assertThat(context.getMergedJobDataMap().getString("note")).isEqualTo("strings only");
            RUNS.incrementAndGet();
        }
    }

    @Test
    void clusteredSchedulerRunsOnH2WithTheFlywayTables() throws Exception {
        try (ConfigurableApplicationContext context = new SpringApplicationBuilder(QuartzOnly.class)
                .web(WebApplicationType.NONE)
                .run("--spring.datasource.url=jdbc:h2:mem:quartz-h2;MODE=PostgreSQL;DATABASE_TO_LOWER=TRUE;DEFAULT_NULL_ORDERING=HIGH;DB_CLOSE_DELAY=-1",
                        "--spring.datasource.username=sa",
                        "--spring.quartz.scheduler-name=ar-h2",
                        "--app.cleanup.clustered=true",
                        "--spring.main.banner-mode=off")) {
            Scheduler scheduler = context.getBean(Scheduler.class);
            assertThat(scheduler.getMetaData().isJobStoreClustered()).isTrue();
            assertThat(scheduler.getMetaData().getJobStoreClass().getName()).contains("LocalDataSourceJobStore");
            scheduler.scheduleJob(
                    JobBuilder.newJob(CountingJob.class).withIdentity("h2-job", "test").usingJobData("note", "strings only").build(),
                    TriggerBuilder.newTrigger().withIdentity("h2-job", "test")
                            .withSchedule(CronScheduleBuilder.cronSchedule("0/1 * * * * ?")).build());
            // in the application Camel's quartz component starts the scheduler (spring.quartz.auto-startup=false)
            assertThat(scheduler.isStarted()).isFalse();
            scheduler.start();

            await().atMost(Duration.ofSeconds(10)).until(() -> RUNS.get() >= 2);
            JdbcTemplate jdbc = new JdbcTemplate(context.getBean(javax.sql.DataSource.class));
            assertThat(jdbc.queryForObject("SELECT COUNT(*) FROM qrtz_cron_triggers", Integer.class)).isEqualTo(1);
            assertThat(jdbc.queryForObject("SELECT COUNT(*) FROM qrtz_scheduler_state", Integer.class)).isEqualTo(1);
        }
    }

    @Configuration(proxyBeanMethods = false)
    @ImportAutoConfiguration({DataSourceAutoConfiguration.class, DataSourceTransactionManagerAutoConfiguration.class,
            FlywayAutoConfiguration.class, QuartzAutoConfiguration.class})
    @Import(ClusteredQuartzConfiguration.class)
    static class QuartzOnly {
        @Bean
        AppSettings appSettings(Environment env) {
            // bound by hand: the configuration processor allows one @ConfigurationProperties("app") per module
            return Binder.get(env).bind("app", Bindable.ofInstance(new AppSettings())).orElseGet(AppSettings::new);
        }
    }
}
