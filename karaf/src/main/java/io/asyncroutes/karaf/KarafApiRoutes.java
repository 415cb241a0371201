package io.asyncroutes.karaf;

import io.asyncroutes.api.ApiError;
import io.asyncroutes.api.ApiRoutes;
import io.asyncroutes.intake.MessageValidator;
import io.asyncroutes.settings.AppSettings;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.List;

/**
 * The REST API with the API key check that Spring Boot does in a servlet filter
 * ({@code api/ApiKeyFilter}): with {@code app.security.api-key} set, every request of the REST DSL
 * routes needs the {@code X-API-Key} header, compared in constant
 * time, or is answered 401 with the API's JSON error before the route runs. Unlike Spring Boot,
 * no OpenAPI document is served ({@code /api/openapi.json}).
 */
class KarafApiRoutes extends ApiRoutes {

    static final String HEADER = "X-API-Key";

    private final String apiKey;

    KarafApiRoutes(MessageValidator validator, AppSettings settings) {
        super(validator, settings);
        this.apiKey = settings.getSecurity().getApiKey();
    }

    @Override
    public void configure() {
        if (apiKey != null && !apiKey.isBlank()) {
            byte[] expected = apiKey.getBytes(StandardCharsets.UTF_8);
            interceptFrom("rest*")
                    .when(exchange -> {
                        String given = exchange.getMessage().getHeader(HEADER, String.class);
                        return given == null || !MessageDigest.isEqual(expected, given.getBytes(StandardCharsets.UTF_8));
                    })
                    .process(exchange -> ApiError.respond(exchange, 401, "unauthorized",
                            "missing or wrong " + HEADER + " header", List.of()))
                    .stop();
        }
        super.configure();
        // no OpenAPI document (route api-openapi): camel-openapi-java has no bundle in the Camel Karaf
        // runtime, and the route would fail the context's start
        restConfiguration().apiContextPath(null);
    }
}
