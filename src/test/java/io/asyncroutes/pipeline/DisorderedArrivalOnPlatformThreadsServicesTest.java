package io.asyncroutes.pipeline;

import org.springframework.test.context.TestPropertySource;

/**
 * The disordered load on {@code services} with {@code app.ordering.virtual-threads=false}: messages
 * handled on the gate's platform-thread pool, the results confirm and the hand-off awaited by
 * continuations on pools, as on JDK 17 (the suite runs on JDK 25, where the default is virtual threads).
 */
@TestPropertySource(properties = "app.ordering.virtual-threads=false")
class DisorderedArrivalOnPlatformThreadsServicesTest extends DisorderedArrivalServicesTest {

    @Override
    boolean virtualThreadsAskedFor() {
        return false;
    }
}
