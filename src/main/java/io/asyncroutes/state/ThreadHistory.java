package io.asyncroutes.state;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.asyncroutes.intake.MessageValidator;
import io.asyncroutes.message.MessageResult;
import io.asyncroutes.support.Json;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.springframework.data.redis.core.StringRedisTemplate;
import org.springframework.data.redis.core.script.DefaultRedisScript;
import org.springframework.data.redis.core.script.RedisScript;

/**
 * Recent turns of a conversation thread in Redis: a list of JSON strings under
 * {@code <prefix>history:<threadId>}, newest last, capped at {@code maxTurns} and expiring
 * {@code ttl} after the last append. Plain class (no Spring annotation) so camel-main can build it.
 *
 * <p>Append is one Lua script, so push, trim and expire are atomic (a key never exists without
 * its TTL) and idempotent by turn id: a message redelivered after its turn was appended (the
 * broker retries whatever did not complete) does not add the turn twice.
 */
public class ThreadHistory {

    /**
     * KEYS[1] list; ARGV: turn id, turn JSON, max turns, ttl millis. Returns 1 if appended, 0 if already there.
     * Every turn is written by {@link #append} and starts with {@code {"id":"<id>",}} (ids are plain
     * identifiers, nothing to escape): a prefix comparison finds a turn, no JSON decoding per turn.
     */
    private static final RedisScript<Long> APPEND = new DefaultRedisScript<>("""
            local turns = redis.call('LRANGE', KEYS[1], 0, -1)
            local prefix = '{"id":"' .. ARGV[1] .. '",'
            for i = #turns, 1, -1 do
              if string.sub(turns[i], 1, #prefix) == prefix then
                redis.call('PEXPIRE', KEYS[1], ARGV[4])
                return 0
              end
            end
            redis.call('RPUSH', KEYS[1], ARGV[2])
            redis.call('LTRIM', KEYS[1], -tonumber(ARGV[3]), -1)
            redis.call('PEXPIRE', KEYS[1], ARGV[4])
            return 1
            """, Long.class);

    public static final String ROLE_USER = "user";
    public static final String ROLE_ASSISTANT = "assistant";

    private final StringRedisTemplate redis;
    private final String keyPrefix;
    private final int maxTurns;
    private final Duration ttl;

    public ThreadHistory(StringRedisTemplate redis, String keyPrefix, int maxTurns, Duration ttl) {
        if (maxTurns < 1 || ttl.isNegative() || ttl.isZero()) {
            throw new IllegalArgumentException("history needs maxTurns >= 1 and a positive TTL");
        }
        this.redis = redis;
        this.keyPrefix = keyPrefix;
        this.maxTurns = maxTurns;
        this.ttl = ttl;
    }

    /** {@code <id>:reply}, or a digest of the id when that would exceed the 128-character id limit. */
    static String replyTurnId(String messageId) {
        if (messageId.length() <= 122) {
            return messageId + ":reply";
        }
        try {
            byte[] digest = java.security.MessageDigest.getInstance("SHA-256")
                    .digest(messageId.getBytes(java.nio.charset.StandardCharsets.UTF_8));
            return "reply:" + java.util.HexFormat.of().formatHex(digest);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Appends one turn; {@code false} if a turn with this id is already in the list.
     * The JSON is {@code {"id","seq","role","content","at"}}.
     */
    public boolean append(String threadId, String turnId, Long seq, String role, String content, Instant at) {
        String key = key(threadId);
        Long appended = redis.execute(APPEND, List.of(key), turnId, turn(turnId, seq, role, content, at),
                String.valueOf(maxTurns), String.valueOf(ttl.toMillis()));
        return appended != null && appended == 1L;
    }

    /** The turns a handled message adds: the user's, and the assistant's if it got a reply. */
    public List<String> turnsOf(MessageResult result) {
        Instant at = result.getProcessedAt() != null ? result.getProcessedAt() : Instant.now();
        String user = turn(result.getId(), result.getSeq(), ROLE_USER, result.getContent(), at);
        if (result.getReply() == null) {
            return List.of(user);
        }
        return List.of(user, turn(replyTurnId(result.getId()), result.getSeq(), ROLE_ASSISTANT, result.getReply(), at));
    }

    /** One turn's JSON; it starts with {@code {"id":"<id>",}} (see {@link #APPEND}). */
    private static String turn(String turnId, Long seq, String role, String content, Instant at) {
        if (!MessageValidator.isIdentifier(turnId)) {
            throw new IllegalArgumentException("invalid turn id");
        }
        ObjectNode turn = Json.MAPPER.createObjectNode();
        turn.put("id", turnId);
        if (seq != null) {
            turn.put("seq", seq);
        } else {
            turn.putNull("seq");
        }
        turn.put("role", role);
        turn.put("content", content);
        turn.put("at", at.toString());
        return Json.write(turn);
    }

    /** The last {@code n} turns of a thread as JSON strings, oldest first (empty if none). */
    public List<String> recent(String threadId, int n) {
        if (n <= 0) {
            return List.of();
        }
        List<String> turns = redis.opsForList().range(key(threadId), -Math.min(n, maxTurns), -1);
        return turns == null ? List.of() : turns;
    }

    /** The Redis key of a thread's history; the id is validated so no caller can reach other keys. */
    public String key(String threadId) {
        if (!MessageValidator.isIdentifier(threadId)) {
            throw new IllegalArgumentException("invalid thread id");
        }
        return keyPrefix + "history:" + threadId;
    }

    /** Key pattern for SCAN (cleanup). */
    public String keyPattern() {
        return keyPrefix + "history:*";
    }

    public Duration ttl() {
        return ttl;
    }

    public int maxTurns() {
        return maxTurns;
    }
}
