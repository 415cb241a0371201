package io.asyncroutes.api;

import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.function.BooleanSupplier;
import org.springframework.web.filter.OncePerRequestFilter;

/**
 * Answers {@code /api/**} with 503 {@code starting} (and {@code Retry-After: 1}) until the Camel
 * routes are started. The web server listens a few seconds before the REST routes exist; without
 * this, requests in that window got a misleading 404 "no such resource" (seen under load right
 * after start).
 */
public class StartupGateFilter extends OncePerRequestFilter {

    private final BooleanSupplier started;

    public StartupGateFilter(BooleanSupplier started) {
        this.started = started;
    }

    @Override
    protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws ServletException, IOException {
        if (started.getAsBoolean()) {
            chain.doFilter(request, response);
            return;
        }
        response.setStatus(503);
        response.setHeader("Retry-After", "1");
        response.setContentType("application/json");
        response.getOutputStream().write(ApiError.body("starting",
                "the application is starting, try again shortly", List.of()).getBytes(StandardCharsets.UTF_8));
    }
}
