package io.asyncroutes.ordering;

import io.asyncroutes.intake.MessageValidator;
import java.time.Duration;
import org.springframework.data.redis.core.StringRedisTemplate;

/**
 * Last handled seq per thread in Redis: key {@code <prefix>seq:<threadId>}, a decimal String value
 * (readable from any language), with a TTL refreshed on every write so idle threads expire.
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
    public long load(String threadId) {
        String value = redis.opsForValue().get(key(threadId));
        return value == null ? 0 : Long.parseLong(value);
    }

    @Override
    public void save(String threadId, long seq) {
        redis.opsForValue().set(key(threadId), Long.toString(seq), ttl);
    }

    public String key(String threadId) {
        // never build a key from unvalidated text
        if (!MessageValidator.isIdentifier(threadId)) {
            throw new IllegalArgumentException("not a valid thread id");
        }
        return keyPrefix + threadId;
    }
}
