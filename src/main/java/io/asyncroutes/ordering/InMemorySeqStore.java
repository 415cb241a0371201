package io.asyncroutes.ordering;

import java.util.concurrent.ConcurrentHashMap;

/**
 * Last handled seq per thread in a map: for tests and benchmarks only. It grows with the number of
 * thread ids and forgets everything on restart; the application uses {@link RedisSeqStore}.
 */
public class InMemorySeqStore implements SeqStore {

    private final ConcurrentHashMap<String, Long> lastSeq = new ConcurrentHashMap<>();

    @Override
    public long load(String threadId) {
        return lastSeq.getOrDefault(threadId, 0L);
    }

    @Override
    public void save(String threadId, long seq) {
        lastSeq.merge(threadId, seq, Math::max);
    }
}
