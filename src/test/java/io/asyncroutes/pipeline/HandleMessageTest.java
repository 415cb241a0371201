package io.asyncroutes.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.asyncroutes.message.Headers;
import io.asyncroutes.support.EmbeddedProfileTest;
import io.asyncroutes.support.Http;
import io.asyncroutes.support.Json;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.camel.ConsumerTemplate;
import org.apache.camel.Exchange;
import org.apache.camel.ProducerTemplate;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.jdbc.core.JdbcTemplate;

/** The pipeline end to end on the embedded default: REST and queue intake, duplicates, poison messages. */
class HandleMessageTest extends EmbeddedProfileTest {

    @LocalServerPort
    int port;
    @Autowired
    ProducerTemplate producer;
    @Autowired
    ConsumerTemplate consumer;
    @Autowired
    JdbcTemplate jdbc;

    private String api;

    @BeforeEach
    void setUp() {
        api = "http://127.0.0.1:" + port + "/api";
    }

    @Test
    void restMessageIsProcessedAndStoredWithinASecond() throws Exception {
        // warm the path once so the assertion measures steady state, not class loading
        awaitStored(postMessage("{\"threadId\":\"warm-up\",\"content\":\"hi\"}"));

        String body = "{\"threadId\":\"rest-1\",\"seq\":1,\"content\":\"hello\",\"metadata\":{\"lang\":\"en\"}}";
        String id = postMessage(body);

        JsonNode result = await().atMost(Duration.ofSeconds(1)).pollInterval(Duration.ofMillis(20))
                .until(() -> fetchResult(id), r -> r != null && "processed".equals(r.path("status").asText()));
        assertThat(result.path("threadId").asText()).isEqualTo("rest-1");
        assertThat(result.path("seq").asLong()).isEqualTo(1);
        assertThat(result.path("content").asText()).isEqualTo("hello");
        assertThat(result.path("metadata").path("lang").asText()).isEqualTo("en");
        assertThat(result.path("receivedAt").asText()).isNotBlank();
        assertThat(result.path("processedAt").asText()).isNotBlank();
        assertThat(result.path("error").isNull()).isTrue();
        assertThat(jdbc.queryForObject("SELECT status FROM ar_message WHERE id = ?", String.class, id)).isEqualTo("processed");
    }

    @Test
    void queueMessageIsProcessedStoredAndPublished() throws Exception {
        String id = "q-" + UUID.randomUUID();
        producer.sendBodyAndHeader("jms:queue:ar.in", "{\"id\":\"" + id + "\",\"threadId\":\"queue-1\",\"content\":\"via queue\"}",
                Headers.JMS_GROUP, "queue-1");

        String published = consumer.receiveBody("jms:queue:ar.results?selector=arMessageId='" + id + "'", 10_000, String.class);
        assertThat(published).isNotNull();
        assertThat(Json.MAPPER.readTree(published).path("status").asText()).isEqualTo("processed");
        awaitStored(id);
        assertThat(Json.MAPPER.readTree(jdbc.queryForObject("SELECT result FROM ar_message WHERE id = ?", String.class, id))
                .path("content").asText()).isEqualTo("via queue");
    }

    @Test
    void sameIdTwiceIsStoredOnceAndReportedAsDuplicate() throws Exception {
        String id = "dup-" + UUID.randomUUID();
        String first = "{\"id\":\"" + id + "\",\"threadId\":\"dup\",\"content\":\"first\"}";
        String second = "{\"id\":\"" + id + "\",\"threadId\":\"dup\",\"content\":\"second\"}";
        assertThat(Http.postJson(api + "/messages", first).statusCode()).isEqualTo(202);
        awaitStored(id);
        assertThat(Http.postJson(api + "/messages", second).statusCode()).isEqualTo(202);

        String selector = "jms:queue:ar.results?selector=arMessageId='" + id + "'";
        List<String> statuses = List.of(
                Json.MAPPER.readTree(consumer.receiveBody(selector, 10_000, String.class)).path("status").asText(),
                Json.MAPPER.readTree(consumer.receiveBody(selector, 10_000, String.class)).path("status").asText());
        assertThat(statuses).containsExactly("processed", "duplicate");
        assertThat(jdbc.queryForObject("SELECT COUNT(*) FROM ar_message WHERE id = ?", Integer.class, id)).isEqualTo(1);
        assertThat(fetchResult(id).path("content").asText()).isEqualTo("first");
    }

    /**
     * A handled message comes again with its seq (the broker redelivers it when its ack was lost with
     * a connection): it is an id duplicate, and no {@code duplicate} row is written under its id,
     * even while the handled row has not reached the database yet (here: the row removed again).
     * Seen in a RabbitMQ restart: the copy's {@code duplicate} row won that race and the processed
     * result was dropped as a conflict.
     */
    @Test
    void aRedeliveredCopyOfAHandledSequencedMessageWritesNoDuplicateRowUnderItsId() throws Exception {
        String thread = "redelivered-" + UUID.randomUUID();
        String id = thread + "-1";
        String message = "{\"id\":\"" + id + "\",\"threadId\":\"" + thread + "\",\"seq\":1,\"content\":\"once\"}";
        String selector = "jms:queue:ar.results?selector=arMessageId='" + id + "'";
        postMessage(message);
        postMessage("{\"id\":\"" + thread + "-2\",\"threadId\":\"" + thread + "\",\"seq\":2,\"content\":\"two\"}");
        awaitStored(thread + "-2");
        assertThat(Json.MAPPER.readTree(consumer.receiveBody(selector, 10_000, String.class)).path("status").asText())
                .isEqualTo("processed");
        jdbc.update("DELETE FROM ar_message WHERE id = ?", id); // the handled row still on its way

        // the copy comes after its successor was handled: at or below the thread's last seq
        postMessage(message);
        assertThat(Json.MAPPER.readTree(consumer.receiveBody(selector, 10_000, String.class)).path("status").asText())
                .isEqualTo("duplicate");
        // a later message of the thread is stored after the copy (one thread's saves land in order)
        String next = thread + "-3";
        postMessage("{\"id\":\"" + next + "\",\"threadId\":\"" + thread + "\",\"seq\":3,\"content\":\"three\"}");
        awaitStored(next);
        assertThat(jdbc.queryForObject("SELECT COUNT(*) FROM ar_message WHERE id = ?", Integer.class, id))
                .as("rows under the copy's id").isZero();
    }

    @Test
    void poisonMessagesAreDeadLetteredWithReasonAndTheQueueKeepsFlowing() throws Exception {
        String marker = UUID.randomUUID().toString();
        producer.sendBodyAndHeader("jms:queue:ar.in", "this is not json " + marker, "testMarker", marker);
        producer.sendBodyAndHeader("jms:queue:ar.in", "{\"threadId\":\"bad id!\",\"content\":\"" + marker + "\"}",
                "testMarker", marker);
        String goodId = "after-poison-" + marker;
        producer.sendBody("jms:queue:ar.in", "{\"id\":\"" + goodId + "\",\"threadId\":\"poison\",\"content\":\"fine\"}");

        String dlq = "jms:queue:ar.dead-letter?selector=testMarker='" + marker + "'";
        Map<String, Exchange> deadLetters = new java.util.HashMap<>();
        for (int i = 0; i < 2; i++) {
            Exchange dead = consumer.receive(dlq, 10_000);
            assertThat(dead).as("dead letter " + i).isNotNull();
            String body = dead.getMessage().getBody(String.class);
            deadLetters.put(body.startsWith("this is not json") ? "not-json" : "bad-field", dead);
        }
        Exchange notJson = deadLetters.get("not-json");
        Exchange badField = deadLetters.get("bad-field");
        assertThat(notJson.getMessage().getBody(String.class)).isEqualTo("this is not json " + marker);
        assertThat(notJson.getMessage().getHeader(Headers.DEAD_LETTER_REASON, String.class)).startsWith("invalid_json");
        assertThat(notJson.getMessage().getHeader(Headers.DEAD_LETTER_ROUTE, String.class)).isEqualTo("intake-queue");
        assertThat(badField.getMessage().getHeader(Headers.DEAD_LETTER_REASON, String.class))
                .startsWith("invalid_message").contains("threadId");
        awaitStored(goodId);
    }

    @Test
    void threadHistoryIsPagedInSeqOrder() throws Exception {
        String thread = "history-" + UUID.randomUUID();
        for (int seq : new int[] {3, 1, 2}) {
            postMessage("{\"id\":\"" + thread + "-" + seq + "\",\"threadId\":\"" + thread + "\",\"seq\":" + seq + ",\"content\":\"m" + seq + "\"}");
        }
        await().atMost(Duration.ofSeconds(10)).until(() ->
                jdbc.queryForObject("SELECT COUNT(*) FROM ar_message WHERE thread_id = ?", Integer.class, thread) == 3);

        JsonNode page1 = Json.MAPPER.readTree(Http.get(api + "/threads/" + thread + "/messages?limit=2&afterSeq=0").body());
        assertThat(page1.path("items").findValuesAsText("content")).containsExactly("m1", "m2");
        String next = page1.path("next").asText();
        assertThat(next).isEqualTo("/api/threads/" + thread + "/messages?limit=2&afterSeq=2");
        JsonNode page2 = Json.MAPPER.readTree(Http.get("http://127.0.0.1:" + port + next).body());
        assertThat(page2.path("items").findValuesAsText("content")).containsExactly("m3");
        assertThat(page2.path("next").isNull()).isTrue();

        JsonNode all = Json.MAPPER.readTree(Http.get(api + "/threads/" + thread + "/messages").body());
        assertThat(all.path("items").findValuesAsText("content")).containsExactly("m1", "m2", "m3");
    }

    private String postMessage(String body) throws Exception {
        HttpResponse<String> response = Http.postJson(api + "/messages", body);
        assertThat(response.statusCode()).as(response.body()).isEqualTo(202);
        return Json.MAPPER.readTree(response.body()).path("id").asText();
    }

    private void awaitStored(String id) {
        await().atMost(Duration.ofSeconds(10)).until(() ->
                jdbc.queryForObject("SELECT COUNT(*) FROM ar_message WHERE id = ?", Integer.class, id) == 1);
    }

    private JsonNode fetchResult(String id) throws Exception {
        HttpResponse<String> response = Http.get(api + "/messages/" + id);
        return response.statusCode() == 200 ? Json.MAPPER.readTree(response.body()) : null;
    }
}
