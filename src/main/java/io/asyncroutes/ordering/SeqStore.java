package io.asyncroutes.ordering;

/**
 * Where each thread's {@link SeqState} (last handled seq, skipped ranges) survives a restart. Read
 * once when a thread's in-memory state is created, written when a turn that changed it ends.
 */
public interface SeqStore {

    /** The thread's state; last seq 0 and nothing skipped if none is known. */
    SeqState load(String threadId);

    /** Records the thread's state. */
    void save(String threadId, SeqState state);

    /** Keeps nothing: every thread starts at 0 (benchmarks, tests). */
    SeqStore NONE = new SeqStore() {
        @Override
        public SeqState load(String threadId) {
            return new SeqState(0);
        }

        @Override
        public void save(String threadId, SeqState state) {
        }
    };
}
