package io.asyncroutes.config;

import io.asyncroutes.api.ApiKeyFilter;
import io.asyncroutes.api.InlinePlatformHttp;
import io.asyncroutes.api.JsonErrorReportValve;
import io.asyncroutes.api.StartupGateFilter;
import io.asyncroutes.settings.AppSettings;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.camel.CamelContext;
import org.apache.camel.component.platform.http.spi.PlatformHttpEngine;
import org.apache.catalina.Pipeline;
import org.apache.catalina.Valve;
import org.apache.catalina.core.StandardHost;
import org.apache.catalina.valves.ErrorReportValve;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.web.embedded.tomcat.TomcatServletWebServerFactory;
import org.springframework.boot.web.error.ErrorAttributeOptions;
import org.springframework.boot.web.server.WebServerFactoryCustomizer;
import org.springframework.boot.web.servlet.FilterRegistrationBean;
import org.springframework.boot.web.servlet.error.DefaultErrorAttributes;
import org.springframework.boot.web.servlet.error.ErrorAttributes;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.Ordered;
import org.springframework.core.annotation.Order;
import org.springframework.core.env.Environment;
import org.springframework.http.HttpStatus;
import org.springframework.web.context.request.RequestAttributes;
import org.springframework.web.context.request.WebRequest;

/**
 * HTTP concerns outside the Camel routes: 503 while the routes start, the API key check, and the JSON shape of errors that
 * the servlet container answers before a route is reached (unknown path 404, wrong method 405).
 */
@Configuration(proxyBeanMethods = false)
public class WebConfiguration {

    /**
     * platform-http's engine, named as the one Camel looks up (the starter's own steps aside): each
     * REST route runs on the request's own thread and is answered in one pass through Spring MVC
     * ({@link InlinePlatformHttp}).
     */
    @Bean(name = "platform-http-engine")
    @ConditionalOnProperty(name = "app.api.inline-dispatch", havingValue = "true", matchIfMissing = true)
    public PlatformHttpEngine platformHttpEngine(Environment env) {
        return InlinePlatformHttp.engine(env.getProperty("server.port", Integer.class, 8080));
    }

    @Bean
    @ConditionalOnProperty(name = "app.api.inline-dispatch", havingValue = "true", matchIfMissing = true)
    public InlinePlatformHttp inlinePlatformHttp() {
        return new InlinePlatformHttp();
    }

    @Bean
    public FilterRegistrationBean<ApiKeyFilter> apiKeyFilter(AppSettings settings) {
        // app.security.require-api-key without a key has already stopped the start (AppSettings validation)
        String key = settings.getSecurity().getApiKey();
        FilterRegistrationBean<ApiKeyFilter> registration = new FilterRegistrationBean<>(
                new ApiKeyFilter(key == null ? "" : key));
        registration.addUrlPatterns("/api/*");
        registration.setOrder(Ordered.HIGHEST_PRECEDENCE + 10);
        registration.setEnabled(key != null && !key.isBlank());
        return registration;
    }

    /** 503 {@code starting} on /api/** until the Camel routes have started (before the API key check). */
    @Bean
    public FilterRegistrationBean<StartupGateFilter> startupGateFilter(CamelContext camelContext) {
        FilterRegistrationBean<StartupGateFilter> registration = new FilterRegistrationBean<>(
                new StartupGateFilter(camelContext::isStarted));
        registration.addUrlPatterns("/api/*");
        registration.setOrder(Ordered.HIGHEST_PRECEDENCE + 5);
        return registration;
    }

    /**
     * Tomcat answers requests it refuses before any servlet (an encoded NUL in the path, ...) with its
     * host's error report valve: replaced by one that writes the API's JSON error shape. Runs after
     * Spring Boot's own customizer, which adds the HTML one.
     */
    @Bean
    @Order(Ordered.LOWEST_PRECEDENCE)
    public WebServerFactoryCustomizer<TomcatServletWebServerFactory> jsonErrorReports() {
        return factory -> factory.addContextCustomizers(context -> {
            Pipeline host = context.getParent().getPipeline();
            for (Valve valve : host.getValves()) {
                if (valve instanceof ErrorReportValve && !(valve instanceof JsonErrorReportValve)) {
                    host.removeValve(valve);
                }
            }
            host.addValve(new JsonErrorReportValve());
            // the host adds a valve of this class when it starts unless one is there (matched by class name)
            if (context.getParent() instanceof StandardHost standardHost) {
                standardHost.setErrorReportValveClass(JsonErrorReportValve.class.getName());
            }
        });
    }

    /** {@code {"error": code, "message": text, "details": []}} for container-level errors too. */
    @Bean
    public ErrorAttributes errorAttributes() {
        return new DefaultErrorAttributes() {
            @Override
            public Map<String, Object> getErrorAttributes(WebRequest request, ErrorAttributeOptions options) {
                Object code = request.getAttribute("jakarta.servlet.error.status_code", RequestAttributes.SCOPE_REQUEST);
                int status = code instanceof Integer i ? i : 500;
                HttpStatus resolved = HttpStatus.resolve(status);
                String reason = resolved != null ? resolved.getReasonPhrase() : "Error";
                Map<String, Object> body = new LinkedHashMap<>();
                body.put("error", reason.toLowerCase().replace(' ', '_'));
                body.put("message", switch (status) {
                    case 404 -> "no such resource";
                    case 405 -> "method not allowed on this resource";
                    // every verb with a body consumes JSON; the same words as the routes' own 415 (HttpJson)
                    case 415 -> "Content-Type must be application/json";
                    default -> reason;
                });
                body.put("details", List.of());
                return body;
            }
        };
    }
}
