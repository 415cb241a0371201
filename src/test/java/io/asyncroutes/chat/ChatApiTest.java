package io.asyncroutes.chat;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.asyncroutes.message.Headers;
import io.asyncroutes.support.EmbeddedProfileTest;
import io.asyncroutes.support.Http;
import io.asyncroutes.support.Json;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.apache.camel.ConsumerTemplate;
import org.apache.camel.Exchange;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.data.redis.core.StringRedisTemplate;
import org.springframework.jdbc.core.JdbcTemplate;

/**
 * POST /api/chat relays the LLM's stream as Server-Sent Events, and reply:true messages get their
 * answer through the pipeline. The LLM is {@link LocalOpenAiServer}, whose model name chooses the
 * chunk schedule and the failures.
 */
class ChatApiTest extends EmbeddedProfileTest {

    private static final HttpClient CLIENT = HttpClient.newHttpClient();

    @LocalServerPort
    int port;
    @Autowired
    JdbcTemplate jdbc;
    @Autowired
    StringRedisTemplate redis;
    @Autowired
    ConsumerTemplate consumer;

    record Event(String line, long receivedNanos) {
    }

    @Test
    void chunksReachTheClientOneByOneWhileTheUpstreamIsStillStreaming() throws Exception {
        int before = LLM.calls("words-8-300").size(); // a rerun of this test finds the first run's call
        HttpResponse<InputStream> response = chat("words-8-300", true);

        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.headers().firstValue("Content-Type")).get().asString().startsWith("text/event-stream");
        List<Event> events = read(response.body(), Integer.MAX_VALUE);
        List<String> data = events.stream().map(Event::line).toList();
        assertThat(data).hasSize(9).endsWith("data: [DONE]");
        for (int i = 0; i < 8; i++) {
            assertThat(data.get(i)).isEqualTo("data: {\"content\":\"w" + (i + 1) + " \"}");
        }
        LocalOpenAiServer.Call call = LLM.calls("words-8-300").get(before);
        long lastEmitted = call.emittedNanos.get(7);
        assertThat(events.get(0).receivedNanos()).as("first chunk received before the upstream sent its last (2.1 s later)")
                .isLessThan(lastEmitted);
        // relayed, not buffered: most chunks are received before the upstream even emits the next
        // one, 300 ms later (a single hiccup of a loaded 2-core machine is tolerated)
        long early = java.util.stream.IntStream.range(0, 7)
                .filter(i -> events.get(i).receivedNanos() < call.emittedNanos.get(i + 1)).count();
        assertThat(early).isGreaterThanOrEqualTo(6);
    }

    /**
     * Camel's platform-http answered through Spring MVC's async processing, whose timeout (30 s by
     * default, 3 s in these tests) cut a longer stream off silently after the chunks so far: an LLM
     * answer of more than half a minute never reached its end. Served inline, no such timeout applies.
     */
    @Test
    void aStreamLongerThanSpringMvcsAsyncTimeoutReachesItsEnd() throws Exception {
        List<String> data = read(chat("words-6-1000", true).body(), Integer.MAX_VALUE).stream().map(Event::line).toList();

        assertThat(data).hasSize(7).endsWith("data: [DONE]");
        assertThat(data.get(5)).isEqualTo("data: {\"content\":\"w6 \"}");
    }

    @Test
    void withoutStreamTheWholeReplyComesAsJson() throws Exception {
        HttpResponse<String> response = Http.postJson(api("/chat"),
                "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"model\":\"words-3-10\",\"stream\":false}");

        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(Json.MAPPER.readTree(response.body()).path("reply").asText()).isEqualTo("w1 w2 w3 ");
    }

    @Test
    void anUpstreamFailureMidStreamBecomesAnErrorEventAndIsNotRetried() throws Exception {
        List<String> lines = read(chat("break-2-50", true).body(), Integer.MAX_VALUE).stream().map(Event::line).toList();

        assertThat(lines).startsWith("data: {\"content\":\"w1 \"}", "data: {\"content\":\"w2 \"}");
        assertThat(lines).contains("event: error").doesNotContain("data: [DONE]");
        assertThat(lines.get(lines.size() - 1)).startsWith("data: {\"error\":\"upstream_error\"");
        assertThat(LLM.requests("break-2-50")).isEqualTo(1);
    }

    @Test
    void upstreamErrorsBeforeTheFirstChunkAreRetried() throws Exception {
        List<String> lines = read(chat("fail-2-words-2-10", true).body(), Integer.MAX_VALUE).stream().map(Event::line).toList();

        assertThat(lines).containsExactly("data: {\"content\":\"w1 \"}", "data: {\"content\":\"w2 \"}", "data: [DONE]");
        assertThat(LLM.requests("fail-2-words-2-10")).isEqualTo(3);
    }

    @Test
    void aClientThatHangsUpCancelsTheUpstreamRequest() throws Exception {
        // a raw socket, so the hang-up is real: an HTTP client library may drain the rest instead
        String body = "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"model\":\"words-600-50\",\"stream\":true}";
        int before = LLM.calls("words-600-50").size();
        try (java.net.Socket socket = new java.net.Socket("127.0.0.1", port)) {
            socket.getOutputStream().write(("POST /api/chat HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                    + "Content-Length: " + body.getBytes(StandardCharsets.UTF_8).length + "\r\n\r\n" + body)
                    .getBytes(StandardCharsets.UTF_8));
            socket.getOutputStream().flush();
            BufferedReader reader = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
            int events = 0;
            while (events < 2) {
                String line = reader.readLine();
                assertThat(line).as("stream ended early").isNotNull();
                if (line.contains("data: {\"content\"")) {
                    events++;
                }
            }
        } // closed here, mid-stream

        // the upstream would stream for 30 s; on a loaded machine the hang-up can take a few seconds to surface
        await().atMost(Duration.ofSeconds(25)).until(() ->
                LLM.calls("words-600-50").size() > before && LLM.calls("words-600-50").get(before).clientGone);
        LocalOpenAiServer.Call call = LLM.calls("words-600-50").get(before);
        assertThat(call.finished).isFalse();
        assertThat(call.emittedNanos.size()).isLessThan(600);
    }

    @Test
    void badChatRequestsGetJsonClientErrors() throws Exception {
        String[][] cases = {
            {"{\"messages\":[]}", "422"},
            {"{\"messages\":[{\"role\":\"wizard\",\"content\":\"x\"}]}", "422"},
            {"{\"messages\":[{\"role\":\"user\",\"content\":42}]}", "422"},
            {"{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"stream\":\"yes\"}", "422"},
            {"{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"model\":\"a b\"}", "422"},
            {"{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"temperature\":2}", "422"},
            {"{\"messages\":", "400"},
        };
        for (String[] c : cases) {
            HttpResponse<String> response = Http.postJson(api("/chat"), c[0]);
            assertThat(response.statusCode()).as(c[0]).isEqualTo(Integer.parseInt(c[1]));
            assertThat(Json.MAPPER.readTree(response.body()).path("error").asText()).isNotBlank();
        }
        HttpResponse<String> unknownModel = Http.postJson(api("/chat"),
                "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"model\":\"no-such-model\"}");
        assertThat(unknownModel.statusCode()).isEqualTo(502);
        assertThat(Json.MAPPER.readTree(unknownModel.body()).path("error").asText()).isEqualTo("upstream_error");
    }

    @Test
    void aReplyRequestGetsItsReplyStoredAndAppendedToTheThreadHistory() throws Exception {
        String thread = "chat-" + UUID.randomUUID();
        String id = thread + "-1";
        HttpResponse<String> accepted = Http.postJson(api("/messages"),
                "{\"id\":\"" + id + "\",\"threadId\":\"" + thread + "\",\"seq\":1,\"content\":\"hello\",\"reply\":true}");
        assertThat(accepted.statusCode()).isEqualTo(202);

        await().atMost(Duration.ofSeconds(20)).until(() ->
                jdbc.queryForObject("SELECT COUNT(*) FROM ar_message WHERE id = ?", Integer.class, id) == 1);
        JsonNode result = Json.MAPPER.readTree(jdbc.queryForObject("SELECT result FROM ar_message WHERE id = ?", String.class, id));
        assertThat(result.path("status").asText()).isEqualTo("processed");
        assertThat(result.path("reply").asText()).isEqualTo("w1 w2 w3 ");
        assertThat(result.path("error").isNull()).isTrue();

        // recorded once the hand-off is durable, which may be after the row is written
        await().atMost(Duration.ofSeconds(10)).until(() -> redis.opsForList().size("ar:history:" + thread) == 2);
        List<String> history = redis.opsForList().range("ar:history:" + thread, 0, -1);
        assertThat(history).hasSize(2);
        assertThat(Json.MAPPER.readTree(history.get(0)).path("role").asText()).isEqualTo("user");
        assertThat(Json.MAPPER.readTree(history.get(1)).path("role").asText()).isEqualTo("assistant");
        assertThat(Json.MAPPER.readTree(history.get(1)).path("content").asText()).isEqualTo("w1 w2 w3 ");

        // the chunk queue is shared with other reply tests of this context: skip their chunks
        List<String> chunks = new ArrayList<>();
        while (chunks.size() < 3) {
            Exchange chunk = consumer.receive("seda:reply-chunks", 5_000);
            assertThat(chunk).as("chunk %d of message %s", chunks.size() + 1, id).isNotNull();
            if (id.equals(chunk.getMessage().getHeader(Headers.MESSAGE_ID))) {
                chunks.add(chunk.getMessage().getBody(String.class));
            }
        }
        assertThat(chunks).containsExactly("w1 ", "w2 ", "w3 ");
    }

    /**
     * A stream holds its request's thread for its whole length: when platform-http ran each request's
     * route on Spring's task executor, its default of 8 threads let 8 open streams stall every other
     * request of the API until one ended (the routes now run on Tomcat's request threads, 256).
     */
    @Test
    void twelveOpenStreamsLeaveTheRestOfTheApiAnswering() throws Exception {
        String model = "words-40-250"; // 10 s per stream
        List<java.util.concurrent.CompletableFuture<HttpResponse<InputStream>>> streams = new ArrayList<>();
        for (int i = 0; i < 12; i++) {
            streams.add(CLIENT.sendAsync(HttpRequest.newBuilder(URI.create(api("/chat")))
                    .header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString("{\"messages\":[{\"role\":\"user\",\"content\":\"s" + i
                            + "\"}],\"model\":\"" + model + "\",\"stream\":true}"))
                    .build(), HttpResponse.BodyHandlers.ofInputStream()));
        }
        try {
            await().atMost(Duration.ofSeconds(5)).alias("all 12 streams reached the LLM at once")
                    .until(() -> LLM.calls(model).size() == 12);
            long started = System.nanoTime();
            HttpResponse<String> other = Http.get(api("/messages/no-such-id-" + UUID.randomUUID()));
            long tookMillis = (System.nanoTime() - started) / 1_000_000;
            assertThat(other.statusCode()).isEqualTo(404);
            assertThat(tookMillis).as("another request answered while the streams are open (ms)").isLessThan(3_000);
        } finally {
            for (var stream : streams) {
                stream.thenAccept(response -> {
                    try {
                        response.body().close(); // the client goes away: the relay ends its upstream call
                    } catch (java.io.IOException ignored) {
                        // already closed
                    }
                });
            }
            // the next test starts with no stream of this one still running: twelve streams being torn
            // down at once delayed a later stream's first chunks in a full-suite run
            await().atMost(Duration.ofSeconds(20)).until(() -> LLM.calls(model).stream()
                    .allMatch(call -> call.clientGone || call.finished));
        }
    }

    private String api(String path) {
        return "http://127.0.0.1:" + port + "/api" + path;
    }

    private HttpResponse<InputStream> chat(String model, boolean stream) throws Exception {
        HttpRequest request = HttpRequest.newBuilder(URI.create(api("/chat")))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"model\":\""
                        + model + "\",\"stream\":" + stream + "}"))
                .build();
        return CLIENT.send(request, HttpResponse.BodyHandlers.ofInputStream());
    }

    /** Non-blank SSE lines with the time each arrived, up to {@code max} lines or the end. */
    private static List<Event> read(InputStream body, int max) throws Exception {
        List<Event> events = new ArrayList<>();
        BufferedReader reader = new BufferedReader(new InputStreamReader(body, StandardCharsets.UTF_8));
        while (events.size() < max) {
            String line = reader.readLine();
            if (line == null) {
                break;
            }
            if (!line.isBlank()) {
                events.add(new Event(line, System.nanoTime()));
            }
        }
        return events;
    }
}
