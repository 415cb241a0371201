package io.asyncroutes.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.asyncroutes.chat.LocalOpenAiServer;
import io.asyncroutes.fetch.UpstreamServer;
import io.asyncroutes.message.MessageResult;
import io.asyncroutes.support.EmbeddedProfileTest;
import io.asyncroutes.support.Http;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.apache.camel.CamelContext;
import org.apache.camel.Exchange;
import org.apache.camel.builder.AdviceWith;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.jdbc.core.JdbcTemplate;

/**
 * A reply message gathers its inputs (its fetch URLs and its thread history) with a parallel
 * multicast: the gathering takes about as long as the slower source, not the sum of both, and
 * both reach the LLM.
 */
class ReplyGatherTest extends EmbeddedProfileTest {

    private static final long SOURCE_MILLIS = 400;
    private static UpstreamServer upstream;
    /** Per thread id: when read-history began, when chat-reply began (nanos). */
    private static final Map<String, Long> HISTORY_STARTED = new ConcurrentHashMap<>();
    private static final Map<String, Long> REPLY_STARTED = new ConcurrentHashMap<>();

    @LocalServerPort
    int port;
    @Autowired
    CamelContext camel;
    @Autowired
    JdbcTemplate jdbc;

    @BeforeAll
    static void startUpstream() throws Exception {
        upstream = new UpstreamServer();
    }

    @AfterAll
    static void stopUpstream() {
        upstream.close();
    }

    @Test
    void aSlowFetchAndASlowHistoryReadAreGatheredInParallelAndBothReachTheLlm() throws Exception {
        // the history read of these threads takes SOURCE_MILLIS, like the fetch below
        AdviceWith.adviceWith(camel, "read-history", route -> route.weaveAddFirst().process(exchange -> {
            String thread = thread(exchange);
            if (thread.startsWith("gather-")) {
                HISTORY_STARTED.put(thread, System.nanoTime());
                TimeUnit.MILLISECONDS.sleep(SOURCE_MILLIS); // the slow source itself, not a wait for async work
            }
        }));
        AdviceWith.adviceWith(camel, "chat-reply", route -> route.weaveAddFirst().process(exchange ->
                REPLY_STARTED.putIfAbsent(thread(exchange), System.nanoTime())));

        // one reply with a fetch first, so the measurement below is of the gathering, not of the
        // first fetch and the first LLM call of this JVM (class loading, connection set-up)
        String warm = "warm-" + UUID.randomUUID();
        post("{\"id\":\"" + warm + "\",\"threadId\":\"" + warm + "\",\"content\":\"warm up\",\"reply\":true,"
                + "\"fetch\":[\"" + upstream.url("id=" + warm) + "\"]}");
        awaitStored(warm);

        String thread = "gather-" + UUID.randomUUID();
        post("{\"id\":\"" + thread + "-1\",\"threadId\":\"" + thread + "\",\"seq\":1,\"content\":\"an earlier turn\"}");
        awaitStored(thread + "-1");
        post("{\"id\":\"" + thread + "-2\",\"threadId\":\"" + thread + "\",\"seq\":2,\"content\":\"now answer\",\"reply\":true,"
                + "\"fetch\":[\"" + upstream.url("id=ctx-" + thread + "&delay=" + SOURCE_MILLIS) + "\"]}");
        awaitStored(thread + "-2");

        long gatheringMillis = TimeUnit.NANOSECONDS.toMillis(REPLY_STARTED.get(thread) - HISTORY_STARTED.get(thread));
        assertThat(gatheringMillis).as("gathering took about the slower source, not the sum of both")
                .isGreaterThanOrEqualTo(SOURCE_MILLIS - 20).isLessThan(2 * SOURCE_MILLIS - 100);

        String status = jdbc.queryForObject("SELECT status FROM ar_message WHERE id = ?", String.class, thread + "-2");
        assertThat(status).isEqualTo("processed");
        // the application's default model in these tests (EmbeddedProfileTest)
        LocalOpenAiServer.Call call = LLM.calls("words-3-10").stream()
                .filter(c -> c.request.contains("now answer") && c.request.contains("ctx-" + thread)).findFirst()
                .orElseThrow(() -> new AssertionError("the LLM was not asked with the gathered inputs"));
        assertThat(call.request).as("the history turn reached the LLM").contains("an earlier turn");
        assertThat(call.request).as("the fetched context reached the LLM").contains("ctx-" + thread);
    }

    private static String thread(Exchange exchange) {
        return exchange.getMessage().getBody(MessageResult.class).getThreadId();
    }

    private void post(String json) {
        assertThat(Http.postJson("http://127.0.0.1:" + port + "/api/messages", json).statusCode()).isEqualTo(202);
    }

    private void awaitStored(String id) {
        await().atMost(Duration.ofSeconds(20)).until(() ->
                jdbc.queryForObject("SELECT COUNT(*) FROM ar_message WHERE id = ?", Integer.class, id) == 1);
    }
}
