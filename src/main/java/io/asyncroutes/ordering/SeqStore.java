package io.asyncroutes.ordering;

/**
 * Where the last handled {@code seq} of each thread survives a restart. Read once when a thread's
 * in-memory state is created, written after each successfully handled sequenced message.
 */
public interface SeqStore {

    /** The last handled seq of the thread, 0 if none is known. */
    long load(String threadId);

    /** Records {@code seq} as the last handled seq of the thread. */
    void save(String threadId, long seq);

    /** Keeps nothing: every thread starts at 0 (benchmarks, tests). */
    SeqStore NONE = new SeqStore() {
        @Override
        public long load(String threadId) {
            return 0;
        }

        @Override
        public void save(String threadId, long seq) {
        }
    };
}
