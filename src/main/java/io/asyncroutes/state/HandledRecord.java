package io.asyncroutes.state;

import io.asyncroutes.intake.MessageValidator;
import io.asyncroutes.message.ExchangeProperties;
import io.asyncroutes.message.Headers;
import io.asyncroutes.message.MessageResult;
import io.asyncroutes.ordering.KeyedResequencer;
import io.asyncroutes.ordering.RedisSeqStore;
import io.asyncroutes.ordering.SeqState;
import io.asyncroutes.ordering.ThreadOrderingEngine;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.apache.camel.Exchange;
import org.springframework.data.redis.core.StringRedisTemplate;
import org.springframework.data.redis.core.script.DefaultRedisScript;
import org.springframework.data.redis.core.script.RedisScript;

/**
 * What a handled message leaves in Redis, written in <em>one</em> round trip once its result is
 * durably handed to persistence: its idempotency key (the same key {@link MessageIdRepository}
 * reads), its turns in the thread history, and its thread's ordering state (last seq, skipped
 * ranges). Written one by one these were three or four synchronous round trips per message, each a
 * thread parked and woken, the largest share of the application's context switches.
 *
 * <p>One script, so the three land together or not at all: a message whose record failed is
 * redelivered and handled again, and one whose record succeeded is a duplicate for the idempotent
 * consumer; its turns are appended only with the first record (the key's value marks it), so they
 * are never added twice. The turn's own end ({@link ThreadOrderingEngine}) then sees that its state is written and
 * does not write it again.
 */
public class HandledRecord {

    /**
     * KEYS: 1 idempotency key, 2 history list, [3 ordering state].
     * ARGV: 1 message id, 2 idempotency window ms, 3 max turns, 4 history TTL ms, 5 ordering state,
     * 6 ordering TTL ms, 7.. turns. The idempotency key's value says whether the record was written
     * ({@value #RECORDED}{@code <id>}): the key alone may also come from a plain add (the idempotent
     * consumer's completion, which in-memory endpoints such as seda may run first), and the turns
     * must still be appended then, once. Returns 1 if the record is new.
     */
    private static final RedisScript<Long> RECORD = new DefaultRedisScript<>("""
            local previous = redis.call('GET', KEYS[1])
            local fresh = not (previous and string.sub(previous, 1, 9) == 'recorded:')
            if fresh and #ARGV >= 7 then
              redis.call('RPUSH', KEYS[2], unpack(ARGV, 7))
              redis.call('LTRIM', KEYS[2], -tonumber(ARGV[3]), -1)
            end
            redis.call('SET', KEYS[1], 'recorded:' .. ARGV[1], 'PX', ARGV[2])
            redis.call('PEXPIRE', KEYS[2], ARGV[4])
            if #KEYS >= 3 then
              redis.call('SET', KEYS[3], ARGV[5], 'PX', ARGV[6])
            end
            if fresh then return 1 end
            return 0
            """, Long.class);

    /** Value prefix of an idempotency key written with its message's record. */
    public static final String RECORDED = "recorded:";

    private final StringRedisTemplate redis;
    private final ThreadHistory history;
    private final MessageIdRepository ids;
    private final RedisSeqStore seqStore;

    /**
     * @param seqStore where the ordering state lives; null when it is not in this Redis (the
     *                 turn's end then writes it as before)
     */
    public HandledRecord(StringRedisTemplate redis, ThreadHistory history, MessageIdRepository ids, RedisSeqStore seqStore) {
        this.redis = redis;
        this.history = history;
        this.ids = ids;
        this.seqStore = seqStore;
    }

    /** Records the exchange's handled result (property {@link ExchangeProperties#RESULT}, else the body); route {@code append-history}. */
    public void record(Exchange exchange) {
        MessageResult result = exchange.getProperty(ExchangeProperties.RESULT, MessageResult.class);
        if (result == null) {
            result = exchange.getMessage().getBody(MessageResult.class);
        }
        if (!MessageValidator.isIdentifier(result.getId())) {
            throw new IllegalArgumentException("invalid message id");
        }
        List<String> keys = new ArrayList<>(3);
        keys.add(ids.redisKey(result.getId()));
        keys.add(history.key(result.getThreadId()));
        List<String> turns = history.turnsOf(result);
        Object[] args = new Object[6 + turns.size()];
        args[0] = result.getId();
        args[1] = String.valueOf(ids.window().toMillis());
        args[2] = String.valueOf(history.maxTurns());
        args[3] = String.valueOf(history.ttl().toMillis());
        args[4] = "";
        args[5] = "0";
        ThreadOrderingEngine.Ticket turn = KeyedResequencer.turnOf(exchange);
        SeqState state = turn != null && seqStore != null ? turn.stateIfHandled() : null;
        if (state != null) {
            keys.add(seqStore.key(result.getThreadId()));
            args[4] = state.format();
            args[5] = String.valueOf(positive(seqStore.ttl()).toMillis());
        }
        for (int i = 0; i < turns.size(); i++) {
            args[6 + i] = turns.get(i);
        }
        redis.execute(RECORD, keys, args);
        // only now: a failed script leaves the key and the state to be written the usual way
        exchange.setProperty(ExchangeProperties.ID_RECORDED, result.getId());
        if (state != null) {
            turn.stateRecorded(state);
        }
    }

    private static Duration positive(Duration ttl) {
        return ttl.isNegative() || ttl.isZero() ? Duration.ofMillis(1) : ttl;
    }
}
