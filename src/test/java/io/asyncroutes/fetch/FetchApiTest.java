package io.asyncroutes.fetch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.asyncroutes.support.EmbeddedProfileTest;
import io.asyncroutes.support.Http;
import io.asyncroutes.support.Json;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.jdbc.core.JdbcTemplate;

/** POST /api/fetch and the pipeline's fetch step in the running application. */
class FetchApiTest extends EmbeddedProfileTest {

    private static UpstreamServer upstream;

    @LocalServerPort
    int port;
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
    void fetchEndpointAnswersInInputOrder() throws Exception {
        String body = "{\"urls\":[\"" + upstream.url("id=a&delay=200") + "\",\"" + upstream.url("id=b") + "\",\""
                + upstream.url("id=c&status=404") + "\",\"http://127.0.0.1:" + upstream.port() + "/json\"]}";

        HttpResponse<String> response = Http.postJson("http://127.0.0.1:" + port + "/api/fetch", body);

        assertThat(response.statusCode()).isEqualTo(200);
        JsonNode results = Json.MAPPER.readTree(response.body()).path("results");
        assertThat(results).hasSize(4);
        assertThat(results.get(0).path("body").path("id").asText()).isEqualTo("a");
        assertThat(results.get(1).path("body").path("id").asText()).isEqualTo("b");
        assertThat(results.get(2).path("status").asInt()).isEqualTo(404);
        assertThat(results.get(3).path("error").asText()).contains("refused", "loopback");
    }

    @Test
    void badFetchRequestsGetJsonClientErrors() throws Exception {
        String api = "http://127.0.0.1:" + port + "/api/fetch";
        String tooMany = "{\"urls\":[" + ("\"" + upstream.url("id=x") + "\",").repeat(32) + "\"" + upstream.url("id=y") + "\"]}";
        String[][] cases = {
            {"{\"urls\":\"http://a\"}", "422"},
            {"{\"urls\":[]}", "422"},
            {"{\"urls\":[\"ftp://example.com/x\"]}", "422"},
            {"{\"urls\":[42]}", "422"},
            {"{\"links\":[]}", "422"},
            {"[\"http://a\"]", "422"},
            {"{\"urls\":", "400"},
            {tooMany, "422"},
        };
        for (String[] c : cases) {
            HttpResponse<String> response = Http.postJson(api, c[0]);
            assertThat(response.statusCode()).as(c[0]).isEqualTo(Integer.parseInt(c[1]));
            assertThat(Json.MAPPER.readTree(response.body()).path("error").asText()).isNotBlank();
        }
    }

    @Test
    void aMessageWithFetchUrlsIsStoredWithItsContext() throws Exception {
        String id = "ctx-" + UUID.randomUUID();
        String message = "{\"id\":\"" + id + "\",\"threadId\":\"ctx\",\"content\":\"with context\",\"fetch\":[\""
                + upstream.url("id=first&delay=100") + "\",\"" + upstream.url("id=second&status=503") + "\"]}";
        assertThat(Http.postJson("http://127.0.0.1:" + port + "/api/messages", message).statusCode()).isEqualTo(202);

        await().atMost(Duration.ofSeconds(20)).until(() ->
                jdbc.queryForObject("SELECT COUNT(*) FROM ar_message WHERE id = ?", Integer.class, id) == 1);
        JsonNode result = Json.MAPPER.readTree(jdbc.queryForObject("SELECT result FROM ar_message WHERE id = ?", String.class, id));
        assertThat(result.path("status").asText()).isEqualTo("processed");
        JsonNode context = result.path("context");
        assertThat(context).hasSize(2);
        assertThat(context.get(0).path("ok").asBoolean()).isTrue();
        assertThat(context.get(0).path("body").path("id").asText()).isEqualTo("first");
        assertThat(context.get(1).path("ok").asBoolean()).isFalse();
        assertThat(context.get(1).path("status").asInt()).isEqualTo(503);
        assertThat(context.get(1).path("attempts").asInt()).isEqualTo(3);
    }
}
