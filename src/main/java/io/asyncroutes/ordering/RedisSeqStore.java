package io.asyncroutes.ordering;

import io.asyncroutes.intake.MessageValidator;
import java.time.Duration;
import org.springframework.data.redis.core.StringRedisTemplate;

/**
 * Ordering state per thread in Redis: key {@code <prefix>seq:<threadId>}, a String value in
 * {@link SeqState}'s text form ({@code "<last>"} or {@code "<last>;<from>-<to>,..."}, readable from
 * any language), with a TTL refreshed on every write so idle threads expire.
 */
public class RedisSeqStore implements SeqStore {

    private final StringRedisTemplate redis;
    private final String keyPrefix;
    private final Duration ttl;

    public RedisSeqStore(StringRedisTemplate redis, String keyPrefix, Duration ttl) {
        this.redis = redis;
        this.keyPrefix = keyPrefix + "seq:";
        this.ttl = ttl;
    }

    @Override
    public SeqState load(String threadId) {
        return SeqState.parse(redis.opsForValue().get(key(threadId)));
    }

    @Override
    public void save(String threadId, SeqState state) {
        redis.opsForValue().set(key(threadId), state.format(), ttl);
    }

    public Duration ttl() {
        return ttl;
    }

    public String key(String threadId) {
        // never build a key from unvalidated text
        if (!MessageValidator.isIdentifier(threadId)) {
            throw new IllegalArgumentException("not a valid thread id");
        }
        return keyPrefix + threadId;
    }
}
