package io.asyncroutes.cluster;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import org.springframework.data.redis.core.StringRedisTemplate;
import org.springframework.data.redis.core.script.DefaultRedisScript;
import org.springframework.data.redis.core.script.RedisScript;

/**
 * Membership and partition leases in Redis, shared by every instance:
 * <ul>
 *   <li>{@code <prefix>partitions:members}: a sorted set, member = instance id, score = the time
 *   (Redis's own clock) its registration runs out; renewed by each heartbeat, the expired ones
 *   removed by the next heartbeat of anyone;</li>
 *   <li>{@code <prefix>partitions:lease:<n>}: the id of the instance that owns partition
 *   {@code n}, with a TTL; set only if absent, renewed and deleted only by its holder (Lua
 *   set-if-absent-or-renew, compare-and-delete), so an instance never extends or drops another's lease.</li>
 * </ul>
 * Every key has a TTL: a stopped cluster leaves nothing behind.
 */
public class PartitionLeases {

    /** Instance ids become part of Redis values and are shown in health: the same rule as thread ids. */
    public static final Pattern INSTANCE_ID = Pattern.compile("[A-Za-z0-9._:-]{1,128}");

    private static final RedisScript<List> HEARTBEAT = new DefaultRedisScript<>("""
            local t = redis.call('TIME')
            local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
            local ttl = tonumber(ARGV[2])
            redis.call('ZADD', KEYS[1], now + ttl, ARGV[1])
            redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
            redis.call('PEXPIRE', KEYS[1], ttl)
            return redis.call('ZRANGE', KEYS[1], 0, -1)
            """, List.class);

    /** Takes the lease if free, renews it if already ours (compare-and-renew). */
    private static final RedisScript<Long> ACQUIRE = new DefaultRedisScript<>("""
            local v = redis.call('GET', KEYS[1])
            if not v then
              redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
              return 1
            elseif v == ARGV[1] then
              redis.call('PEXPIRE', KEYS[1], ARGV[2])
              return 1
            end
            return 0
            """, Long.class);

    private static final RedisScript<Long> RELEASE = new DefaultRedisScript<>("""
            if redis.call('GET', KEYS[1]) == ARGV[1] then
              return redis.call('DEL', KEYS[1])
            end
            return 0
            """, Long.class);

    private final StringRedisTemplate redis;
    private final String membersKey;
    private final String leasePrefix;
    private final String ttlMillis;

    public PartitionLeases(StringRedisTemplate redis, String keyPrefix, Duration ttl) {
        this.redis = redis;
        this.membersKey = keyPrefix + "partitions:members";
        this.leasePrefix = keyPrefix + "partitions:lease:";
        this.ttlMillis = Long.toString(ttl.toMillis());
    }

    /** Throws unless {@code id} is a valid instance id. */
    public static String requireValidInstanceId(String id) {
        if (id == null || !INSTANCE_ID.matcher(id).matches()) {
            throw new IllegalArgumentException("app.partitions.instance-id must match " + INSTANCE_ID.pattern() + ": " + id);
        }
        return id;
    }

    /** Registers (or renews) {@code instance} and returns the live members, sorted. */
    public List<String> heartbeat(String instance) {
        List<?> members = redis.execute(HEARTBEAT, List.of(membersKey), instance, ttlMillis);
        List<String> sorted = new ArrayList<>();
        if (members != null) {
            members.forEach(m -> sorted.add(String.valueOf(m)));
        }
        sorted.sort(null);
        return sorted;
    }

    /** Removes {@code instance} from the members at once (a clean stop). */
    public void leave(String instance) {
        redis.opsForZSet().remove(membersKey, instance);
    }

    public boolean acquire(int partition, String instance) {
        return Long.valueOf(1).equals(redis.execute(ACQUIRE, List.of(leaseKey(partition)), instance, ttlMillis));
    }

    /**
     * Extends {@code instance}'s lease; one that ran out meanwhile (Redis unreachable for longer
     * than the TTL) is taken again if nobody else holds it: no other instance can have consumed
     * the partition in between (without the lease it does not subscribe; with it, it would have
     * been a single-active-consumer standby behind this one). False when another instance holds it.
     */
    public boolean renew(int partition, String instance) {
        return acquire(partition, instance);
    }

    public void release(int partition, String instance) {
        redis.execute(RELEASE, List.of(leaseKey(partition)), instance);
    }

    /** The holder of each partition's lease, {@code null} where there is none. */
    public List<String> owners(int partitions) {
        List<String> keys = new ArrayList<>(partitions);
        for (int p = 0; p < partitions; p++) {
            keys.add(leaseKey(p));
        }
        List<String> owners = redis.opsForValue().multiGet(keys);
        return owners == null ? new ArrayList<>(java.util.Collections.nCopies(partitions, null)) : owners;
    }

    private String leaseKey(int partition) {
        return leasePrefix + partition;
    }
}
