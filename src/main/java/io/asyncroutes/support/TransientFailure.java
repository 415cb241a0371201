package io.asyncroutes.support;

/**
 * Marks an exception of ours as transient: {@link TransientErrors} retries it (the intake rolls the
 * message back for redelivery, the database retry tries again) instead of dead-lettering it. A
 * marker rather than a list of class names, so {@code support} depends on no feature.
 */
public interface TransientFailure {
}
