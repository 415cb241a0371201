package io.asyncroutes.support;

import static org.assertj.core.api.Assertions.assertThat;

import io.asyncroutes.persistence.HandoffException;
import org.apache.camel.CamelExchangeException;
import org.junit.jupiter.api.Test;

/** Our exceptions count as transient by implementing {@link TransientFailure}, found anywhere in the cause chain. */
class TransientErrorsTest {

    @Test
    void aFailedHandOffIsTransientEvenWrappedByCamel() {
        Exception handoff = new HandoffException("persist queue unreachable", new IllegalStateException("closed"));
        assertThat(TransientErrors.isTransient(handoff)).isTrue();
        assertThat(TransientErrors.isTransient(new CamelExchangeException("wireTap failed", null, handoff))).isTrue();
    }

    @Test
    void anExceptionWithoutTheMarkerIsPermanent() {
        assertThat(TransientErrors.isTransient(new IllegalStateException("a bug"))).isFalse();
        assertThat(TransientErrors.isTransient(new SupersededDeliveryException("copy took over"))).isFalse();
    }
}
