package io.asyncroutes.state;

import io.asyncroutes.message.ExchangeProperties;
import io.asyncroutes.message.Headers;
import java.time.Duration;
import org.apache.camel.Exchange;
import org.apache.camel.component.redis.processor.idempotent.SpringRedisStringIdempotentRepository;
import org.springframework.data.redis.core.StringRedisTemplate;

/**
 * The idempotent consumer's message ids in Redis ({@code <repository>:<id>}, expiring after the
 * idempotency window), as Camel's {@link SpringRedisStringIdempotentRepository} keeps them, with
 * one difference: a key that {@link HandledRecord} already wrote with the message's other writes is
 * not written a second time when the exchange completes.
 */
public class MessageIdRepository extends SpringRedisStringIdempotentRepository {

    private final Duration window;

    public MessageIdRepository(StringRedisTemplate redis, String repositoryName, Duration window) {
        super(redis, repositoryName);
        this.window = window;
        setExpiry(window.toSeconds());
    }

    @Override
    public boolean add(Exchange exchange, String key) {
        if (key.equals(exchange.getProperty(ExchangeProperties.ID_RECORDED, String.class))) {
            return true; // written by HandledRecord, in the same round trip as the history and ordering state
        }
        return add(key);
    }

    /** The Redis key of a message id (the same as Camel's repository uses). */
    public String redisKey(String id) {
        return createRedisKey(id);
    }

    public Duration window() {
        return window;
    }
}
