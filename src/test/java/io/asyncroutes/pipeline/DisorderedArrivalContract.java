package io.asyncroutes.pipeline;

import io.asyncroutes.message.Headers;
import io.asyncroutes.support.DisorderedLoad;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.springframework.jdbc.core.JdbcTemplate;

/**
 * Per-thread order under concurrent, disordered arrival, the same on every profile: 40 threads x 25
 * sequenced messages posted by 16 concurrent clients, (a) each thread's in seq order, (b) shuffled,
 * with the default gap timeout. Early messages wait in the ordering gate while the consumer reads
 * on, so all 1 000 are {@code processed}, each thread in seq order, no gap skipped (when the posting
 * took less than the gap timeout). A profile's test class implements it and says where its
 * application is.
 */
interface DisorderedArrivalContract {

    int port();

    JdbcTemplate jdbc();

    MeterRegistry meters();

    /** Headers every API request needs (the API key of a profile that requires one). */
    default Map<String, String> apiHeaders() {
        return Map.of();
    }

    @Test
    default void fortyThreadsPostedInThreadOrderByConcurrentClientsAreAllProcessedInOrder() throws Exception {
        assertAllProcessedInOrder(false);
    }

    @Test
    default void fortyThreadsPostedShuffledByConcurrentClientsAreAllProcessedInOrder() throws Exception {
        assertAllProcessedInOrder(true);
    }

    default double gapsSkipped() {
        return meters().get("ar.ordering.gaps.skipped").counter().count();
    }

    private void assertAllProcessedInOrder(boolean shuffled) throws Exception {
        double gapsBefore = gapsSkipped();
        String run = "dis-" + UUID.randomUUID().toString().substring(0, 8);
        DisorderedLoad.Outcome outcome = DisorderedLoad.run("http://127.0.0.1:" + port(), apiHeaders(), jdbc(), run, 40, 25, 16, shuffled);
        DisorderedLoad.assertNoGapSkippedWhenPostedWithinTheGapTimeout(outcome, gapsSkipped() - gapsBefore, 1000);
    }
}
