package io.asyncroutes.state;

import io.asyncroutes.cleanup.CleanupTask;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.springframework.data.redis.core.StringRedisTemplate;
import org.springframework.data.redis.core.script.DefaultRedisScript;
import org.springframework.data.redis.core.script.RedisScript;

/**
 * Redis entries that TTLs do not cover: a key of one of our families (thread history,
 * idempotency) that has no TTL (written by an older version, by hand, or by a client that
 * failed between two commands) would live forever. Each tick walks the families with SCAN
 * (never KEYS, which blocks Redis) and gives such keys their family's TTL, so they expire like
 * the others. Counted as kind {@value #NAME}.
 *
 * <p>There is one idempotency key per message of the last day, so a whole walk per tick would
 * cost more with every message stored. Each tick examines at most {@code keysPerTick} keys per
 * family and the next tick goes on from that family's cursor: the keyspace is covered over
 * several ticks, at a bounded cost each. The check runs in Redis (one script per SCAN step), so
 * no key or TTL travels to the application.
 */
public class RedisTtlSweep implements CleanupTask {

    public static final String NAME = "redis-no-ttl";
    /**
     * Hash slots one SCAN step examines (Redis's COUNT hint). A step is one script, and Redis runs
     * nothing else while a script runs: with 165 000 idempotency keys a step of 1 000 took 3.1 ms on
     * an idle machine and 10–27 ms under load, a stall for every message being handled meanwhile;
     * a step of 200 takes 0.6 ms idle, for the same work per tick in more, shorter steps.
     */
    private static final long SCAN_STEP = 200;
    /** Default budget: keys examined per family and tick. */
    public static final long DEFAULT_KEYS_PER_TICK = 50_000;

    /**
     * ARGV: cursor, match pattern, count, TTL millis. One SCAN step; keys of that step without a TTL
     * get one. Returns {next cursor, keys fixed, keys seen}. (Keys not in KEYS[]: fine on one Redis,
     * where SCAN runs anyway; a cluster would need a sweep per node.)
     */
    private static final RedisScript<List> STEP = new DefaultRedisScript<>("""
            local r = redis.call('SCAN', ARGV[1], 'MATCH', ARGV[2], 'COUNT', tonumber(ARGV[3]))
            local fixed = 0
            for _, k in ipairs(r[2]) do
              if redis.call('PTTL', k) == -1 then
                redis.call('PEXPIRE', k, ARGV[4])
                fixed = fixed + 1
              end
            end
            return {r[1], fixed, #r[2]}
            """, List.class);

    private final StringRedisTemplate redis;
    /** Key pattern (prefix + family + '*') → TTL to give a key of that family that has none. */
    private final Map<String, Duration> families;
    private final long keysPerTick;
    /** Where each family's walk goes on next tick ("0": from the start). */
    private final Map<String, String> cursors = new ConcurrentHashMap<>();

    public RedisTtlSweep(StringRedisTemplate redis, Map<String, Duration> families) {
        this(redis, families, DEFAULT_KEYS_PER_TICK);
    }

    public RedisTtlSweep(StringRedisTemplate redis, Map<String, Duration> families, long keysPerTick) {
        if (keysPerTick < 1) {
            throw new IllegalArgumentException("keysPerTick must be at least 1");
        }
        this.redis = redis;
        this.families = new LinkedHashMap<>(families);
        this.keysPerTick = keysPerTick;
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public long cleanup(Instant now) {
        long fixed = 0;
        for (Map.Entry<String, Duration> family : families.entrySet()) {
            String pattern = family.getKey();
            String ttlMillis = String.valueOf(family.getValue().toMillis());
            String cursor = cursors.getOrDefault(pattern, "0");
            long examined = 0;
            do {
                List<?> step = redis.execute(STEP, List.of(), cursor, pattern, String.valueOf(SCAN_STEP), ttlMillis);
                cursor = String.valueOf(step.get(0));
                fixed += ((Number) step.get(1)).longValue();
                // SCAN examines about COUNT slots per step whether they match or not
                examined += SCAN_STEP;
            } while (!"0".equals(cursor) && examined < keysPerTick);
            cursors.put(pattern, cursor);
        }
        return fixed;
    }

    /** Whether every family's walk is back at its start (a whole pass ended on the last tick). */
    public boolean passComplete() {
        return families.keySet().stream().allMatch(pattern -> "0".equals(cursors.getOrDefault(pattern, "0")));
    }
}
