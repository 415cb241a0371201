package io.asyncroutes.api;

import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import org.apache.camel.component.platform.http.springboot.SpringBootPlatformHttpConsumer;
import org.apache.camel.component.platform.http.springboot.SpringBootPlatformHttpEngine;
import org.springframework.core.Ordered;
import org.springframework.web.method.HandlerMethod;
import org.springframework.web.servlet.HandlerAdapter;
import org.springframework.web.servlet.ModelAndView;

/**
 * Runs each REST request's Camel route on the servlet container's own request thread, answered in
 * one pass through Spring MVC.
 *
 * <p>Camel's platform-http on Spring Boot maps every REST verb to
 * {@code SpringBootPlatformHttpConsumer.service}, which hands the route to Spring's task executor
 * and returns a {@code CompletableFuture}: Spring MVC then starts servlet async processing and, when
 * the route has written the response, dispatches the request through the filters and the
 * {@code DispatcherServlet} a second time to "handle" that future. A profile of the REST intake
 * under load put a fifth of the application's CPU in Spring MVC, much of it in that second pass
 * (handler lookup, a new result handler method with its annotation scan, per request). Here:
 * <ul>
 *   <li>{@link #engine(int)}: the platform-http engine with an executor that runs the task in the
 *   calling thread, so {@code service} returns a future that is already complete;</li>
 *   <li>this {@link HandlerAdapter}, ahead of Spring's, calls {@code service} for those handlers
 *   and returns once it has, with no async start and no second dispatch.</li>
 * </ul>
 * The route's behaviour is unchanged (the consumer's own code binds the request, runs the route and
 * writes the response); the thread that holds a request for its length is now the container's, so
 * {@code server.tomcat.threads.max} is the API's concurrency (an open SSE stream holds one).
 */
public class InlinePlatformHttp implements HandlerAdapter, Ordered {

    /** platform-http's engine for Spring Boot, its consumers running routes in the calling thread. */
    public static SpringBootPlatformHttpEngine engine(int port) {
        return new SpringBootPlatformHttpEngine(port, Runnable::run);
    }

    @Override
    public boolean supports(Object handler) {
        return handler instanceof HandlerMethod method && method.getBean() instanceof SpringBootPlatformHttpConsumer;
    }

    @Override
    public ModelAndView handle(HttpServletRequest request, HttpServletResponse response, Object handler) {
        SpringBootPlatformHttpConsumer consumer = (SpringBootPlatformHttpConsumer) ((HandlerMethod) handler).getBean();
        // runs inline: the future is complete when service returns; it has already turned a failure
        // into a 500 if nothing was written yet
        consumer.service(request, response).join();
        return null;
    }

    @Override
    @SuppressWarnings("deprecation")
    public long getLastModified(HttpServletRequest request, Object handler) {
        return -1; // no Last-Modified support, as for Spring's own adapter
    }

    @Override
    public int getOrder() {
        return Ordered.HIGHEST_PRECEDENCE;
    }
}
