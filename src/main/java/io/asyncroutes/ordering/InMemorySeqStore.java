package io.asyncroutes.ordering;

import java.util.concurrent.ConcurrentHashMap;

/**
 * Ordering state per thread in a map: for tests and benchmarks only. It grows with the number of
 * thread ids and forgets everything on restart; the application uses {@link RedisSeqStore}.
 */
public class InMemorySeqStore implements SeqStore {

    private final ConcurrentHashMap<String, String> states = new ConcurrentHashMap<>();

    @Override
    public SeqState load(String threadId) {
        return SeqState.parse(states.get(threadId));
    }

    @Override
    public void save(String threadId, SeqState state) {
        states.put(threadId, state.format());
    }
}
