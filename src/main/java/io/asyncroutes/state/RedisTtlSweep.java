package io.asyncroutes.state;

import io.asyncroutes.cleanup.CleanupTask;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.springframework.data.redis.core.Cursor;
import org.springframework.data.redis.core.RedisCallback;
import org.springframework.data.redis.core.ScanOptions;
import org.springframework.data.redis.core.StringRedisTemplate;

/**
 * Redis entries that TTLs do not cover: a key of one of our families (thread history,
 * idempotency) that has no TTL (written by an older version, by hand, or by a client that
 * failed between two commands) would live forever. Each tick walks the families with SCAN
 * (never KEYS, which blocks Redis) and gives such keys their family's TTL, so they expire like
 * the others. Counted as kind {@value #NAME}.
 */
public class RedisTtlSweep implements CleanupTask {

    public static final String NAME = "redis-no-ttl";
    private static final long SCAN_BATCH = 500;

    private final StringRedisTemplate redis;
    /** Key pattern (prefix + family + '*') → TTL to give a key of that family that has none. */
    private final Map<String, Duration> families;

    public RedisTtlSweep(StringRedisTemplate redis, Map<String, Duration> families) {
        this.redis = redis;
        this.families = Map.copyOf(families);
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public long cleanup(Instant now) {
        long fixed = 0;
        for (Map.Entry<String, Duration> family : families.entrySet()) {
            ScanOptions options = ScanOptions.scanOptions().match(family.getKey()).count(SCAN_BATCH).build();
            List<String> batch = new ArrayList<>((int) SCAN_BATCH);
            try (Cursor<String> keys = redis.scan(options)) {
                while (keys.hasNext()) {
                    batch.add(keys.next());
                    if (batch.size() == SCAN_BATCH) {
                        fixed += giveTtl(batch, family.getValue());
                        batch.clear();
                    }
                }
            }
            fixed += giveTtl(batch, family.getValue());
        }
        return fixed;
    }

    /** One pipelined round trip for the TTLs of a SCAN batch (there are as many keys as messages a day). */
    private long giveTtl(List<String> keys, Duration ttl) {
        if (keys.isEmpty()) {
            return 0;
        }
        List<Object> ttls = redis.executePipelined((RedisCallback<Object>) connection -> {
            keys.forEach(key -> connection.keyCommands().ttl(key.getBytes(StandardCharsets.UTF_8)));
            return null;
        });
        long fixed = 0;
        for (int i = 0; i < keys.size(); i++) {
            // -1: exists without TTL; -2: gone meanwhile
            if (ttls.get(i) instanceof Long t && t == -1 && Boolean.TRUE.equals(redis.expire(keys.get(i), ttl))) {
                fixed++;
            }
        }
        return fixed;
    }
}
