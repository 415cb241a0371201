package io.asyncroutes.config;

import static org.assertj.core.api.Assertions.assertThat;

import io.asyncroutes.settings.AppSettings;
import io.asyncroutes.settings.KafkaSettings;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.test.context.ConfigDataApplicationContextInitializer;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * {@code app.*} is validated while it binds: a bad value stops the start and the message names the
 * key. The runner loads the shipped {@code application.yaml} (as the application does), so the
 * defaults themselves are checked too.
 */
@ExtendWith(OutputCaptureExtension.class)
class SettingsValidationTest {

    private final ApplicationContextRunner runner = new ApplicationContextRunner()
            .withInitializer(new ConfigDataApplicationContextInitializer())
            .withUserConfiguration(SettingsConfiguration.class);

    @Test
    void theShippedDefaultsBindAndPass() {
        runner.run(context -> {
            assertThat(context).hasNotFailed();
            AppSettings settings = context.getBean(AppSettings.class);
            assertThat(settings.getOrdering().getMaxConcurrency()).isEqualTo(256);
            assertThat(settings.getResults().getTtlMillis()).isEqualTo(86_400_000L);
            assertThat(settings.getEndpoints().getInbound()).startsWith("jms:queue:ar.in?");
            assertThat(settings.getSecurity().isApiKeyPresentWhereRequired()).isTrue();
        });
    }

    @ParameterizedTest(name = "{0}={1}")
    @CsvSource(delimiter = '|', value = {
            "app.ordering.max-concurrency    | 0",
            "app.ordering.max-pending        | -5",
            "app.fetch.max-concurrency       | -1",
            "app.persistence.handoff-timeout | 0s",
            "app.fetch.response-timeout      | -1s",
            "app.rabbitmq.confirm-timeout    | 0ms",
            "app.rabbitmq.partition-exchange-type | x-topic",
            "app.rabbitmq.queue-version      | 3",
            "app.rabbitmq.queue-mode         | eager",
            "app.partitions.instance-id      | two words",
            "app.redis.key-prefix            | ar:*",
            "app.results.ttl-millis          | 3000000000",
            "app.results.max-memory-mb       | 0",
            "app.retry.jitter                | 1.5",
            "app.limits.max-body-bytes       | 0",
            "app.endpoints.inbound           | ' '",
            "app.retention                   | 0s",
            "app.data-dir                    | ' '",
    })
    void aBadValueStopsTheStartNamingItsKey(String key, String value) {
        runner.withPropertyValues(key + "=" + value).run(context -> {
            assertThat(context).hasFailed();
            assertThat(context.getStartupFailure()).rootCause().hasMessageContaining("Binding validation errors on app")
                    .hasMessageContaining("\"" + key + "\"")
                    .satisfies(e -> assertThat(e.getMessage().split("Field error", -1)).as("one error, reported once").hasSize(2));
        });
    }

    @Test
    void requiringAnApiKeyWithoutOneStopsTheStart() {
        runner.withPropertyValues("app.security.require-api-key=true").run(context ->
                assertThat(context.getStartupFailure()).rootCause()
                        .hasMessageContaining("app.security.api-key (APP_SECURITY_API_KEY) must be set"));
        runner.withPropertyValues("app.security.require-api-key=true", "app.security.api-key=s3cret")
                .run(context -> assertThat(context).hasNotFailed());
    }

    @Test
    void rabbitQueuesWithoutAnExchangeStopTheStart() {
        runner.withPropertyValues("app.rabbitmq.inbound-queues=ar.in.0,ar.in.1").run(context ->
                assertThat(context.getStartupFailure()).rootCause()
                        .hasMessageContaining("app.rabbitmq.exchange and app.rabbitmq.prefix must be set"));
        runner.withPropertyValues("app.rabbitmq.inbound-queues=ar.in.0, ar.in.1", "app.rabbitmq.exchange=ar",
                "app.rabbitmq.prefix=ar").run(context -> {
            assertThat(context).hasNotFailed();
            assertThat(context.getBean(AppSettings.class).getRabbitmq().getInboundQueues()).containsExactly("ar.in.0", "ar.in.1");
        });
    }

    @Test
    void kafkaSettingsAreValidatedTheSameWay() {
        runner.run(context -> assertThat(context).doesNotHaveBean(KafkaSettings.class));
        ApplicationContextRunner kafka = runner.withPropertyValues("app.kafka.enabled=true");
        kafka.run(context -> assertThat(context.getBean(KafkaSettings.class).getInboundPartitions()).isEqualTo(16));
        kafka.withPropertyValues("app.kafka.inbound-partitions=0").run(context ->
                assertThat(context.getStartupFailure()).rootCause().hasMessageContaining("\"app.kafka.inbound-partitions\""));
    }

    /** The application itself, started with a bad value: Spring Boot's failure report names key, value and reason. */
    @Test
    void theStartFailureReportNamesKeyValueAndReason(CapturedOutput output) {
        SpringApplicationBuilder app = new SpringApplicationBuilder(SettingsConfiguration.class)
                .web(WebApplicationType.NONE)
                .logStartupInfo(false);
        Throwable failure = null;
        try (ConfigurableApplicationContext ignored = app.run("--app.ordering.max-concurrency=0")) {
            // not reached: the binding fails
        } catch (RuntimeException e) {
            failure = e;
        }
        assertThat(failure).as("the start failed").isNotNull();
        assertThat(output.getOut() + output.getErr())
                .contains("APPLICATION FAILED TO START")
                // Spring Boot writes the field path; the origin line carries the key as configured
                .contains("Property: app.ordering.maxConcurrency")
                .contains("Value: \"0\"")
                .contains("Origin: \"app.ordering.max-concurrency\" from property source \"commandLineArgs\"")
                .contains("Reason: must be greater than 0");
    }
}
