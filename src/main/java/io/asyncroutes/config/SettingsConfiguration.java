package io.asyncroutes.config;

import io.asyncroutes.settings.AppSettings;
import io.asyncroutes.settings.KafkaSettings;
import jakarta.validation.Validation;
import jakarta.validation.ValidatorFactory;
import org.springframework.beans.factory.DisposableBean;
import org.springframework.beans.factory.config.BeanDefinition;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.Role;
import org.springframework.validation.Errors;
import org.springframework.validation.Validator;
import org.springframework.validation.annotation.Validated;
import org.springframework.validation.beanvalidation.SpringValidatorAdapter;

/**
 * Binds {@code app.*} onto {@link AppSettings}, the one typed tree every configuration class reads,
 * and {@code app.kafka.*} onto {@link KafkaSettings} when the {@code kafka} profile turns it on.
 * {@code @Validated} makes Spring Boot check the tree's Jakarta constraints while binding, so a bad
 * value stops the start with the key named ("Property: app.ordering.max-concurrency ... Reason:
 * must be greater than 0"). The annotations sit here and on the bean method, not on the class, so
 * {@code settings/} stays free of Spring for camel-main and Karaf. The configuration processor reads
 * this method too and generates the {@code app.*} metadata from the class's fields and Javadoc.
 */
@Configuration(proxyBeanMethods = false)
@EnableConfigurationProperties // the binding post-processor, also where no auto-configuration runs (tests)
public class SettingsConfiguration {

    @Bean
    @Validated
    @ConfigurationProperties("app")
    public AppSettings appSettings() {
        return new AppSettings();
    }

    @Bean
    @Validated
    @ConfigurationProperties("app.kafka")
    @ConditionalOnProperty(name = "app.kafka.enabled", havingValue = "true")
    public KafkaSettings kafkaSettings() {
        return new KafkaSettings();
    }

    /**
     * Spring Boot checks {@code @Validated} constraints on the bound root only (nested groups through
     * {@code @Valid}), and then reports a nested field as {@code app.ordering.maxConcurrency} with no
     * origin. This validator, which Spring Boot applies to every object it binds, checks each group of
     * our settings as soon as it is bound, so the report names the key as written and where it came
     * from ({@code "app.ordering.max-concurrency" from property source "commandLineArgs"}). Static:
     * the binding post-processor looks it up before the configuration classes are instantiated;
     * infrastructure role: created that early, it is not meant for the other post-processors (Spring
     * warned at every start that it was "not eligible for getting processed by all BeanPostProcessors").
     */
    @Bean(EnableConfigurationProperties.VALIDATOR_BEAN_NAME)
    @Role(BeanDefinition.ROLE_INFRASTRUCTURE)
    public static Validator configurationPropertiesValidator() {
        return new SettingsValidator();
    }

    /**
     * Jakarta Bean Validation of the groups nested in our settings (the roots are {@code @Validated},
     * checking them here as well would report their errors twice); other bound types are not ours.
     */
    static final class SettingsValidator implements Validator, DisposableBean {
        private final ValidatorFactory factory = Validation.buildDefaultValidatorFactory();
        private final SpringValidatorAdapter delegate = new SpringValidatorAdapter(factory.getValidator());

        @Override
        public boolean supports(Class<?> type) {
            return type.getEnclosingClass() != null && type.getPackageName().equals(AppSettings.class.getPackageName());
        }

        @Override
        public void validate(Object target, Errors errors) {
            delegate.validate(target, errors);
        }

        @Override
        public void destroy() {
            factory.close();
        }
    }
}
