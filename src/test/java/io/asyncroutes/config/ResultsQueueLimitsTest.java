package io.asyncroutes.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.asyncroutes.settings.AppSettings;
import io.asyncroutes.support.EmbeddedProfileTest;
import jakarta.jms.Connection;
import jakarta.jms.DeliveryMode;
import jakarta.jms.MessageProducer;
import jakarta.jms.Session;
import java.nio.file.Path;
import java.time.Duration;
import org.apache.activemq.artemis.api.core.QueueConfiguration;
import org.apache.activemq.artemis.api.core.RoutingType;
import org.apache.activemq.artemis.api.core.SimpleString;
import org.apache.activemq.artemis.core.config.Configuration;
import org.apache.activemq.artemis.core.config.impl.ConfigurationImpl;
import org.apache.activemq.artemis.core.server.ActiveMQServer;
import org.apache.activemq.artemis.core.server.embedded.EmbeddedActiveMQ;
import org.apache.activemq.artemis.jms.client.ActiveMQConnectionFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.util.FileSystemUtils;

/**
 * An unread results queue on the embedded broker pages on its own and stops growing at
 * {@code app.results.max-length}, while the pipeline's queues stay in memory
 * ({@link JmsBrokerConfiguration#resultsQueueLimits}). A broker of the same kind as the embedded
 * default's (persistent journal, in-VM), with its limits set small.
 */
class ResultsQueueLimitsTest {

    private static final int MAX_LENGTH = 300;
    private static final String PAYLOAD = "r".repeat(2_000);

    private Path dir;
    private EmbeddedActiveMQ broker;
    private ActiveMQConnectionFactory factory;

    @BeforeEach
    void start() throws Exception {
        AppSettings settings = new AppSettings();
        settings.getResults().setMaxMemoryMb(1);
        settings.getResults().setMaxLength(MAX_LENGTH);
        settings.getEndpoints().setResults("jms:queue:ar.results?timeToLive=86400000");

        dir = EmbeddedProfileTest.tempDir("ar-results-limits-");
        Configuration configuration = new ConfigurationImpl()
                .setPersistenceEnabled(true)
                .setSecurityEnabled(false)
                .setJMXManagementEnabled(false)
                .setJournalDirectory(dir.resolve("journal").toString())
                .setBindingsDirectory(dir.resolve("bindings").toString())
                .setPagingDirectory(dir.resolve("paging").toString())
                .setLargeMessagesDirectory(dir.resolve("large").toString())
                .addAcceptorConfiguration("in-vm", "vm://77")
                .addQueueConfiguration(QueueConfiguration.of("ar.results").setRoutingType(RoutingType.ANYCAST))
                .addQueueConfiguration(QueueConfiguration.of("ar.in").setRoutingType(RoutingType.ANYCAST));
        JmsBrokerConfiguration jms = new JmsBrokerConfiguration();
        jms.redeliveryPolicy().customize(configuration);
        jms.resultsQueueLimits(settings).customize(configuration);
        broker = new EmbeddedActiveMQ().setConfiguration(configuration).start();
        factory = new ActiveMQConnectionFactory("vm://77");
    }

    @AfterEach
    void stop() throws Exception {
        factory.close();
        broker.stop();
        FileSystemUtils.deleteRecursively(dir);
    }

    @Test
    void anUnreadResultsBacklogPagesAloneAndStopsAtMaxLength() throws Exception {
        int sent = 3_000; // ~6 MB of results: six times the results queue's memory limit
        send("ar.results", sent);
        send("ar.in", 100);

        ActiveMQServer server = broker.getActiveMQServer();
        assertThat(server.getPagingManager().getPageStore(SimpleString.of("ar.results")).isPaging())
                .as("the results backlog beyond its own memory limit is paged").isTrue();
        // the pipeline's queues are not dragged into paging by it
        assertThat(server.getPagingManager().getPageStore(SimpleString.of("ar.in")).isPaging()).isFalse();
        long inMemory = server.getPagingManager().getPageStore(SimpleString.of("ar.results")).getAddressSize();
        assertThat(inMemory).isLessThanOrEqualTo(1024L * 1024L + PAYLOAD.length() * 4L);
        // what is kept: the in-memory share, then at most max-length paged; the rest was dropped
        long kept = await().atMost(Duration.ofSeconds(10)).until(
                () -> server.locateQueue("ar.results").getMessageCount(), count -> count > 0);
        // (about 220 of these 4 KB messages fill 1 MB): about 520 of the 3 000 sent
        assertThat(kept).isGreaterThan(MAX_LENGTH).isLessThan(1_000);
        assertThat(server.locateQueue("ar.in").getMessageCount()).isEqualTo(100);
    }

    @Test
    void theLimitsNameTheQueueOfTheResultsEndpoint() {
        assertThat(JmsBrokerConfiguration.queueName("jms:queue:ar.results?timeToLive=5")).contains("ar.results");
        assertThat(JmsBrokerConfiguration.queueName("jms:my.results")).contains("my.results");
        // another broker's endpoint, or a topic: nothing for the embedded broker to bound
        assertThat(JmsBrokerConfiguration.queueName("rabbit-confirmed:ar?routingKey=ar.results")).isEmpty();
        assertThat(JmsBrokerConfiguration.queueName("jms:topic:ar.results")).isEmpty();
    }

    private void send(String queue, int count) throws Exception {
        try (Connection connection = factory.createConnection();
             Session session = connection.createSession(false, Session.AUTO_ACKNOWLEDGE)) {
            MessageProducer producer = session.createProducer(session.createQueue(queue));
            producer.setDeliveryMode(DeliveryMode.PERSISTENT);
            for (int i = 0; i < count; i++) {
                producer.send(session.createTextMessage(PAYLOAD));
            }
        }
    }
}
