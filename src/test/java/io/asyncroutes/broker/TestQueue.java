package io.asyncroutes.broker;

import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import java.io.IOException;
import java.util.UUID;
import java.util.concurrent.TimeoutException;

/** A durable queue of one test's own on this machine's RabbitMQ, with a channel to look into it; deleted on close. */
final class TestQueue implements AutoCloseable {

    final ConnectionFactory factory = new ConnectionFactory();
    final Channel channel;
    final String name;
    private final Connection admin;

    TestQueue(String prefix) throws IOException, TimeoutException {
        factory.setHost("127.0.0.1");
        admin = factory.newConnection();
        channel = admin.createChannel();
        name = prefix + UUID.randomUUID();
        channel.queueDeclare(name, true, false, true, null);
    }

    @Override
    public void close() throws IOException {
        channel.queueDelete(name);
        admin.close();
    }
}
