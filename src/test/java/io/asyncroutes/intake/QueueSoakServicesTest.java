package io.asyncroutes.intake;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import com.rabbitmq.client.GetResponse;
import io.asyncroutes.message.Headers;
import io.asyncroutes.support.QueueSoak;
import io.asyncroutes.support.ServicesProfileTest;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.JdbcTemplate;

/**
 * The queue soak ({@link QueueSoak}) on {@code services}: published by a plain AMQP client to the
 * inbound exchange with the thread id as routing key, as another system would; dead letters read
 * from the dead-letter queue.
 */
class QueueSoakServicesTest extends ServicesProfileTest {

    @Autowired
    JdbcTemplate jdbc;

    @Test
    void everyMessageIsStoredOrDeadLetteredWithItsReasonAndTheQueueKeepsFlowing() throws Exception {
        ConnectionFactory factory = new ConnectionFactory();
        factory.setHost("127.0.0.1");
        try (Connection connection = factory.newConnection()) {
            Channel publisher = connection.createChannel();
            publisher.confirmSelect();
            Channel reader = connection.createChannel();
            QueueSoak.run(1_000,
                    (body, thread, headers) -> {
                        byte[] bytes = body instanceof byte[] b ? b : ((String) body).getBytes(StandardCharsets.UTF_8);
                        AMQP.BasicProperties properties = new AMQP.BasicProperties.Builder().deliveryMode(2)
                                .contentType("application/json").headers(headers).build();
                        try {
                            publisher.basicPublish(PREFIX + ".in", thread, properties, bytes);
                            publisher.waitForConfirmsOrDie(10_000);
                        } catch (Exception e) {
                            throw new IllegalStateException(e);
                        }
                    },
                    (run, collect) -> {
                        try {
                            GetResponse dead;
                            while ((dead = reader.basicGet(PREFIX + ".dead-letter", true)) != null) {
                                Map<String, Object> headers = dead.getProps().getHeaders();
                                if (headers != null && run.equals(String.valueOf(headers.get("soakRun")))) {
                                    collect.accept(Integer.valueOf(String.valueOf(headers.get("soakIndex"))),
                                            String.valueOf(headers.get(Headers.DEAD_LETTER_REASON)));
                                }
                            }
                        } catch (java.io.IOException e) {
                            throw new IllegalStateException(e);
                        }
                    },
                    jdbc);
        }
    }
}
