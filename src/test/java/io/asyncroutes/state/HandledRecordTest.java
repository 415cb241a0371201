package io.asyncroutes.state;

import static org.assertj.core.api.Assertions.assertThat;

import io.asyncroutes.message.ExchangeProperties;
import io.asyncroutes.message.Headers;
import io.asyncroutes.message.MessageResult;
import io.asyncroutes.message.ThreadMessage;
import io.asyncroutes.ordering.KeyedResequencer;
import io.asyncroutes.ordering.RedisSeqStore;
import io.asyncroutes.ordering.ThreadOrderingEngine;
import java.time.Duration;
import java.time.Instant;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import org.apache.camel.Exchange;
import org.apache.camel.impl.DefaultCamelContext;
import org.apache.camel.support.DefaultExchange;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;
import org.springframework.data.redis.core.StringRedisTemplate;

/** A handled message's record against this machine's Redis: idempotency key, history turns and ordering state in one script. */
class HandledRecordTest {

    private static final String PREFIX = "ar-record-test:";

    private LettuceConnectionFactory connections;
    private StringRedisTemplate redis;
    private ThreadHistory history;
    private MessageIdRepository ids;
    private RedisSeqStore seqStore;
    private HandledRecord record;
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();
    private ThreadOrderingEngine engine;
    private final DefaultCamelContext camel = new DefaultCamelContext();

    @BeforeEach
    void setUp() {
        connections = new LettuceConnectionFactory("127.0.0.1", 6379);
        connections.afterPropertiesSet();
        redis = new StringRedisTemplate(connections);
        history = new ThreadHistory(redis, PREFIX, 3, Duration.ofMinutes(5));
        ids = new MessageIdRepository(redis, PREFIX + "idem", Duration.ofMinutes(10));
        seqStore = new RedisSeqStore(redis, PREFIX, Duration.ofMinutes(7));
        record = new HandledRecord(redis, history, ids, seqStore);
        engine = new ThreadOrderingEngine(seqStore, Duration.ofSeconds(5), 8, 100, 1000, new ThreadOrderingEngine.Listener() {
        });
        engine.start(timer, null);
    }

    @AfterEach
    void tearDown() {
        engine.stop();
        timer.shutdownNow();
        var keys = redis.keys(PREFIX + "*");
        if (keys != null && !keys.isEmpty()) {
            redis.delete(keys);
        }
        connections.destroy();
    }

    private Exchange handled(String thread, String id, long seq, String reply) throws Exception {
        MessageResult result = MessageResult.of(new ThreadMessage(id, thread, seq, "content of " + id, java.util.List.of(),
                reply != null, null), Instant.now());
        result.setStatus(MessageResult.PROCESSED);
        result.setProcessedAt(Instant.now());
        result.setReply(reply);
        Exchange exchange = new DefaultExchange(camel);
        exchange.setProperty(ExchangeProperties.RESULT, result);
        exchange.getMessage().setBody("{\"json\":\"as publish-result leaves it\"}");
        ThreadOrderingEngine.Ticket ticket = engine.submit(thread, seq, id, t -> { });
        assertThat(ticket.isReady()).isTrue();
        exchange.setProperty(ExchangeProperties.ORDERING_TURN, ticket);
        return exchange;
    }

    @Test
    void oneScriptWritesTheIdTheTurnsAndTheOrderingState() throws Exception {
        String thread = "t-" + UUID.randomUUID();
        Exchange exchange = handled(thread, thread + "-1", 1, "the answer");

        record.record(exchange);

        String idKey = PREFIX + "idem:" + thread + "-1";
        assertThat(redis.opsForValue().get(idKey)).isEqualTo(HandledRecord.RECORDED + thread + "-1");
        assertThat(redis.getExpire(idKey)).isBetween(500L, 600L);
        assertThat(history.recent(thread, 10)).hasSize(2)
                .satisfies(turns -> assertThat(turns.get(0)).startsWith("{\"id\":\"" + thread + "-1\",").contains("\"role\":\"user\""))
                .satisfies(turns -> assertThat(turns.get(1)).contains("\"role\":\"assistant\"", "the answer"));
        assertThat(redis.getExpire(history.key(thread))).isBetween(250L, 300L);
        assertThat(redis.opsForValue().get(seqStore.key(thread))).isEqualTo("1");
        assertThat(redis.getExpire(seqStore.key(thread))).isBetween(370L, 420L);

        // the idempotent consumer's completion does not write the key again (a plain SETNX would answer false)
        assertThat(ids.add(exchange, thread + "-1")).isTrue();
        assertThat(ids.add(new DefaultExchange(camel), thread + "-1")).as("any other exchange: the usual SETNX").isFalse();
        assertThat(ids.contains(thread + "-1")).isTrue();
    }

    @Test
    void aMessageRecordedTwiceAddsItsTurnsOnce() throws Exception {
        String thread = "t-" + UUID.randomUUID();
        Exchange first = handled(thread, thread + "-1", 1, null);
        record.record(first);
        // the same message handled again (say its acknowledgement was lost): its id is known, no second turn
        Exchange again = new DefaultExchange(camel);
        again.setProperty(ExchangeProperties.RESULT, first.getProperty(ExchangeProperties.RESULT));
        record.record(again);

        assertThat(history.recent(thread, 10)).hasSize(1);
    }

    /**
     * The idempotent consumer's own completion may write the key first (an in-memory endpoint such as
     * seda hands the exchange's completions to its copy, which can finish before the record): the
     * turns are still appended, once.
     */
    @Test
    void aKeyWrittenFirstByAPlainAddStillGetsItsTurnsOnce() throws Exception {
        String thread = "t-" + UUID.randomUUID();
        assertThat(ids.add(thread + "-1")).isTrue();
        Exchange exchange = handled(thread, thread + "-1", 1, null);
        record.record(exchange);
        record.record(exchange);

        assertThat(history.recent(thread, 10)).hasSize(1);
        assertThat(redis.opsForValue().get(PREFIX + "idem:" + thread + "-1")).isEqualTo(HandledRecord.RECORDED + thread + "-1");
    }

    @Test
    void noTurnMeansNoOrderingStateAndHistoryStaysCapped() throws Exception {
        String thread = "t-" + UUID.randomUUID();
        for (int i = 1; i <= 5; i++) {
            Exchange exchange = handled(thread, thread + "-" + i, i, null);
            ThreadOrderingEngine.Ticket turn = KeyedResequencer.turnOf(exchange);
            exchange.removeProperty(ExchangeProperties.ORDERING_TURN); // e.g. a route without the ordering gate
            record.record(exchange);
            if (i == 1) {
                assertThat(redis.hasKey(seqStore.key(thread))).as("no ordering state without a turn").isFalse();
            }
            engine.end(turn, true); // the turn's end writes the state itself
        }
        assertThat(history.recent(thread, 10)).hasSize(3).last().asString().contains(thread + "-5");
    }
}
