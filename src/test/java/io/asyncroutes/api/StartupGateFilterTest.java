package io.asyncroutes.api;

import static org.assertj.core.api.Assertions.assertThat;

import org.apache.camel.CamelContext;
import org.apache.camel.impl.DefaultCamelContext;
import org.junit.jupiter.api.Test;
import org.springframework.mock.web.MockFilterChain;
import org.springframework.mock.web.MockHttpServletRequest;
import org.springframework.mock.web.MockHttpServletResponse;

/** Before the Camel routes run, /api/** answers 503 "starting" instead of a misleading 404. */
class StartupGateFilterTest {

    @Test
    void answers503StartingUntilTheCamelContextHasStartedThenPassesThrough() throws Exception {
        try (CamelContext camel = new DefaultCamelContext()) {
            StartupGateFilter filter = new StartupGateFilter(camel::isStarted);

            MockHttpServletResponse starting = new MockHttpServletResponse();
            MockFilterChain notReached = new MockFilterChain();
            filter.doFilter(new MockHttpServletRequest("POST", "/api/messages"), starting, notReached);
            assertThat(starting.getStatus()).isEqualTo(503);
            assertThat(starting.getHeader("Retry-After")).isEqualTo("1");
            assertThat(starting.getContentAsString()).contains("\"error\":\"starting\"");
            assertThat(notReached.getRequest()).as("the API was not reached").isNull();

            camel.start();
            MockHttpServletResponse passed = new MockHttpServletResponse();
            MockFilterChain reached = new MockFilterChain();
            filter.doFilter(new MockHttpServletRequest("POST", "/api/messages"), passed, reached);
            assertThat(reached.getRequest()).as("the API was reached").isNotNull();
            assertThat(passed.getStatus()).isEqualTo(200);
        }
    }
}
