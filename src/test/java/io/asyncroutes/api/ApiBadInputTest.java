package io.asyncroutes.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import ch.qos.logback.classic.Level;
import io.asyncroutes.support.EmbeddedProfileTest;
import io.asyncroutes.support.Http;
import io.asyncroutes.support.Json;
import io.asyncroutes.support.LogCapture;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.springframework.boot.test.web.server.LocalServerPort;

/** Bad REST input always gets the right 4xx with a JSON error body, never a 5xx (README "REST API"). */
class ApiBadInputTest extends EmbeddedProfileTest {

    @LocalServerPort
    int port;

    static Stream<Arguments> badRequests() {
        String big = "x".repeat(70_000);
        String hugeBody = "{\"threadId\":\"t\",\"content\":\"" + "y".repeat(300_000) + "\"}";
        String manyUrls = "[" + "\"http://example.com/a\",".repeat(32) + "\"http://example.com/b\"]";
        String bigMetadata = "{\"k\":\"" + "m".repeat(9000) + "\"}";
        return Stream.of(
                // method, path, content type, body, status, error code
                Arguments.of("malformed JSON", "POST", "/api/messages", "application/json", "{\"threadId\":", 400, "invalid_json"),
                Arguments.of("not an object", "POST", "/api/messages", "application/json", "[1,2]", 400, "invalid_json"),
                Arguments.of("empty body", "POST", "/api/messages", "application/json", "", 400, "invalid_json"),
                Arguments.of("trailing garbage", "POST", "/api/messages", "application/json", "{\"threadId\":\"t\",\"content\":\"c\"} x", 400, "invalid_json"),
                Arguments.of("duplicate key", "POST", "/api/messages", "application/json", "{\"threadId\":\"t\",\"threadId\":\"u\",\"content\":\"c\"}", 400, "invalid_json"),
                Arguments.of("missing threadId", "POST", "/api/messages", "application/json", "{\"content\":\"c\"}", 422, "invalid_message"),
                Arguments.of("missing content", "POST", "/api/messages", "application/json", "{\"threadId\":\"t\"}", 422, "invalid_message"),
                Arguments.of("threadId wrong type", "POST", "/api/messages", "application/json", "{\"threadId\":42,\"content\":\"c\"}", 422, "invalid_message"),
                Arguments.of("hostile threadId", "POST", "/api/messages", "application/json", "{\"threadId\":\"../../etc/passwd\",\"content\":\"c\"}", 422, "invalid_message"),
                Arguments.of("threadId with CRLF", "POST", "/api/messages", "application/json", "{\"threadId\":\"a\\r\\nSET x\",\"content\":\"c\"}", 422, "invalid_message"),
                Arguments.of("threadId too long", "POST", "/api/messages", "application/json", "{\"threadId\":\"" + "t".repeat(129) + "\",\"content\":\"c\"}", 422, "invalid_message"),
                Arguments.of("hostile id", "POST", "/api/messages", "application/json", "{\"id\":\"x' OR '1'='1\",\"threadId\":\"t\",\"content\":\"c\"}", 422, "invalid_message"),
                Arguments.of("empty id", "POST", "/api/messages", "application/json", "{\"id\":\"\",\"threadId\":\"t\",\"content\":\"c\"}", 422, "invalid_message"),
                Arguments.of("seq zero", "POST", "/api/messages", "application/json", "{\"threadId\":\"t\",\"seq\":0,\"content\":\"c\"}", 422, "invalid_message"),
                Arguments.of("seq as string", "POST", "/api/messages", "application/json", "{\"threadId\":\"t\",\"seq\":\"1\",\"content\":\"c\"}", 422, "invalid_message"),
                Arguments.of("seq fractional", "POST", "/api/messages", "application/json", "{\"threadId\":\"t\",\"seq\":1.5,\"content\":\"c\"}", 422, "invalid_message"),
                Arguments.of("seq beyond long", "POST", "/api/messages", "application/json", "{\"threadId\":\"t\",\"seq\":99999999999999999999,\"content\":\"c\"}", 422, "invalid_message"),
                Arguments.of("content wrong type", "POST", "/api/messages", "application/json", "{\"threadId\":\"t\",\"content\":{\"a\":1}}", 422, "invalid_message"),
                Arguments.of("content too large", "POST", "/api/messages", "application/json", "{\"threadId\":\"t\",\"content\":\"" + big + "\"}", 413, "payload_too_large"),
                Arguments.of("body too large", "POST", "/api/messages", "application/json", hugeBody, 413, "payload_too_large"),
                Arguments.of("lone surrogate", "POST", "/api/messages", "application/json", "{\"threadId\":\"t\",\"content\":\"\\ud800\"}", 422, "invalid_message"),
                Arguments.of("reply not boolean", "POST", "/api/messages", "application/json", "{\"threadId\":\"t\",\"content\":\"c\",\"reply\":\"yes\"}", 422, "invalid_message"),
                Arguments.of("fetch not array", "POST", "/api/messages", "application/json", "{\"threadId\":\"t\",\"content\":\"c\",\"fetch\":\"http://a\"}", 422, "invalid_message"),
                Arguments.of("fetch file URL", "POST", "/api/messages", "application/json", "{\"threadId\":\"t\",\"content\":\"c\",\"fetch\":[\"file:///etc/passwd\"]}", 422, "invalid_message"),
                Arguments.of("fetch relative URL", "POST", "/api/messages", "application/json", "{\"threadId\":\"t\",\"content\":\"c\",\"fetch\":[\"/local\"]}", 422, "invalid_message"),
                Arguments.of("too many URLs", "POST", "/api/messages", "application/json", "{\"threadId\":\"t\",\"content\":\"c\",\"fetch\":" + manyUrls + "}", 422, "invalid_message"),
                Arguments.of("metadata not object", "POST", "/api/messages", "application/json", "{\"threadId\":\"t\",\"content\":\"c\",\"metadata\":[1]}", 422, "invalid_message"),
                Arguments.of("metadata too large", "POST", "/api/messages", "application/json", "{\"threadId\":\"t\",\"content\":\"c\",\"metadata\":" + bigMetadata + "}", 422, "invalid_message"),
                Arguments.of("unknown field", "POST", "/api/messages", "application/json", "{\"threadId\":\"t\",\"content\":\"c\",\"status\":\"processed\"}", 422, "invalid_message"),
                Arguments.of("wrong content type", "POST", "/api/messages", "text/plain", "{\"threadId\":\"t\",\"content\":\"c\"}", 415, "unsupported_media_type"),
                Arguments.of("no content type", "POST", "/api/messages", null, "{\"threadId\":\"t\",\"content\":\"c\"}", 415, "unsupported_media_type"),
                Arguments.of("unknown route", "GET", "/api/nothing-here", null, null, 404, "not_found"),
                Arguments.of("wrong method", "DELETE", "/api/messages/abc", null, null, 405, "method_not_allowed"),
                Arguments.of("unknown message", "GET", "/api/messages/no-such-id", null, null, 404, "not_found"),
                Arguments.of("hostile message id", "GET", "/api/messages/a%20b%27", null, null, 400, "invalid_id"),
                Arguments.of("limit too large", "GET", "/api/threads/t/messages?limit=501", null, null, 400, "invalid_query"),
                Arguments.of("limit not a number", "GET", "/api/threads/t/messages?limit=ten", null, null, 400, "invalid_query"),
                Arguments.of("negative afterSeq", "GET", "/api/threads/t/messages?afterSeq=-1", null, null, 400, "invalid_query"),
                Arguments.of("hostile thread id", "GET", "/api/threads/a%3Bdrop/messages", null, null, 400, "invalid_thread_id"),
                Arguments.of("multipart body", "POST", "/api/messages", "multipart/form-data; boundary=x", "{\"threadId\":\"t\",\"content\":\"c\"}", 415, "unsupported_media_type"),
                // refused by the servlet container before any servlet: still the JSON shape
                Arguments.of("encoded NUL in the path", "GET", "/api/messages/%00", null, null, 400, "bad_request"),
                Arguments.of("encoded slash in the path", "GET", "/api/messages/a%2fb", null, null, 400, "bad_request"));
    }

    @ParameterizedTest(name = "{0} -> {5}")
    @MethodSource("badRequests")
    void badInputGetsJsonClientError(String name, String method, String path, String contentType, String body,
                                     int status, String code) throws Exception {
        HttpResponse<String> response = Http.send(method, "http://127.0.0.1:" + port + path, contentType, body, Map.of());

        assertThat(response.statusCode()).as(name + ": " + response.body()).isEqualTo(status);
        assertThat(response.headers().firstValue("Content-Type")).get().asString().startsWith("application/json");
        JsonNode error = Json.MAPPER.readTree(response.body());
        assertThat(error.path("error").asText()).isEqualTo(code);
        assertThat(error.path("message").asText()).isNotBlank();
        assertThat(error.path("details").isArray()).isTrue();
    }

    @Test
    void aBodyThatIsNotUtf8IsInvalidJsonNotAnOutage() throws Exception {
        byte[] notUtf8 = {'{', '"', 't', 'h', 'r', 'e', 'a', 'd', 'I', 'd', '"', ':', '"', (byte) 0xff, (byte) 0xfe, '"', '}'};
        HttpResponse<String> response = java.net.http.HttpClient.newHttpClient().send(
                java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:" + port + "/api/messages"))
                        .header("Content-Type", "application/json")
                        .POST(java.net.http.HttpRequest.BodyPublishers.ofByteArray(notUtf8)).build(),
                HttpResponse.BodyHandlers.ofString());

        assertThat(response.statusCode()).as(response.body()).isEqualTo(400);
        assertThat(Json.MAPPER.readTree(response.body()).path("error").asText()).isEqualTo("invalid_json");
    }

    @Test
    void validationListsEveryProblem() throws Exception {
        HttpResponse<String> response = Http.postJson("http://127.0.0.1:" + port + "/api/messages",
                "{\"threadId\":\"bad id\",\"seq\":-3,\"content\":7}");

        assertThat(response.statusCode()).isEqualTo(422);
        JsonNode details = Json.MAPPER.readTree(response.body()).path("details");
        assertThat(details).hasSize(3);
        assertThat(details.toString()).contains("threadId", "seq", "content");
    }

    @Test
    void openApiDocumentDescribesTheApi() throws Exception {
        HttpResponse<String> response = Http.get("http://127.0.0.1:" + port + "/api/openapi.json");

        assertThat(response.statusCode()).isEqualTo(200);
        JsonNode doc = Json.MAPPER.readTree(response.body());
        assertThat(doc.path("openapi").asText()).startsWith("3.");
        assertThat(doc.path("paths").has("/api/messages")).isTrue();
        assertThat(doc.path("paths").has("/api/messages/{id}")).isTrue();
        assertThat(doc.path("paths").has("/api/threads/{threadId}/messages")).isTrue();

        // a real OpenAPI validator finds nothing to complain about
        io.swagger.v3.parser.core.models.SwaggerParseResult parsed =
                new io.swagger.v3.parser.OpenAPIV3Parser().readContents(response.body(), null, null);
        assertThat(parsed.getMessages()).as("OpenAPI validation messages").isEmpty();
        io.swagger.v3.oas.models.Paths paths = parsed.getOpenAPI().getPaths();
        // every status each verb answers is declared
        assertThat(paths.get("/api/messages").getPost().getResponses()).containsKeys("202", "400", "401", "413", "415", "422", "503");
        assertThat(paths.get("/api/fetch").getPost().getResponses()).containsKeys("200", "400", "413", "415", "422");
        assertThat(paths.get("/api/chat").getPost().getResponses()).containsKeys("200", "400", "422", "502", "503");
        assertThat(paths.get("/api/messages/{id}").getGet().getResponses()).containsKeys("200", "400", "404", "503");
        assertThat(paths.get("/api/threads/{threadId}/messages").getGet().getResponses()).containsKeys("200", "400", "503");
        // the server is relative (the host the document was fetched from), not the bind address 0.0.0.0
        assertThat(parsed.getOpenAPI().getServers()).extracting(io.swagger.v3.oas.models.servers.Server::getUrl)
                .containsExactly("");
        // behind a proxy that says how it was reached, the proxy's address
        HttpResponse<String> proxied = Http.send("GET", "http://127.0.0.1:" + port + "/api/openapi.json", null, null,
                java.util.Map.of("X-Forwarded-Host", "api.example.com", "X-Forwarded-Proto", "https"));
        assertThat(Json.MAPPER.readTree(proxied.body()).path("servers").get(0).path("url").asText())
                .isEqualTo("https://api.example.com");
    }

    @Test
    void methodAndContentTypeMistakesAreAnsweredNotLoggedAsWarnings() throws Exception {
        HttpResponse<String> wrongType;
        List<String> warnings;
        try (LogCapture log = LogCapture.start()) {
            for (int i = 0; i < 3; i++) {
                assertThat(Http.send("DELETE", "http://127.0.0.1:" + port + "/api/messages", null, null, Map.of())
                        .statusCode()).isEqualTo(405);
            }
            wrongType = Http.send("POST", "http://127.0.0.1:" + port + "/api/messages", "text/plain", "{}", Map.of());
            // Spring MVC resolves both before any route runs (and logged each at WARN): the log line is written
            // before the answer is, so it would be there by now
            warnings = log.atLeast(Level.WARN);
        }
        assertThat(warnings).isEmpty();
        assertThat(wrongType.statusCode()).isEqualTo(415);
        // the same words as a route's own 415, not the bare reason phrase
        assertThat(Json.MAPPER.readTree(wrongType.body()).path("message").asText())
                .isEqualTo("Content-Type must be application/json");
    }
}
