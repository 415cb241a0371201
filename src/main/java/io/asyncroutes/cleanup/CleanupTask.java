package io.asyncroutes.cleanup;

import java.time.Instant;

/**
 * One kind of expired state that {@code cleanup-expired} removes on every tick, next to the
 * database rows past retention. Features register their own (for example the ordering feature's
 * idle-state eviction) as beans; the cleanup route runs every registered task.
 */
public interface CleanupTask {

    /** Short stable name, used as the {@code kind} tag of the {@code ar.cleanup.removed} counter and in the log. */
    String name();

    /**
     * Removes what expired as of {@code now} (the tick's scheduled fire time, the same on every
     * instance) and returns how many entries it removed.
     */
    long cleanup(Instant now);
}
