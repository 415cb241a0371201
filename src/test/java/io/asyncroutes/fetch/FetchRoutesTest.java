package io.asyncroutes.fetch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.asyncroutes.settings.AppSettings;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.stream.IntStream;
import org.apache.camel.CamelContext;
import org.apache.camel.ProducerTemplate;
import org.apache.camel.impl.DefaultCamelContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * fetch-all / fetch-one against a real local HTTP server: order, errors per item, retry schedule,
 * Retry-After, deadline, size cap, SSRF guard, real concurrency. Plain CamelContext: the routes
 * need no Spring. Retry schedule shortened to 100 ms initial, x2, max 500 ms, ±15 %.
 */
class FetchRoutesTest {

    private static UpstreamServer upstream;
    private CamelContext camel;
    private ProducerTemplate template;

    @BeforeAll
    static void startUpstream() throws Exception {
        upstream = new UpstreamServer();
    }

    @AfterAll
    static void stopUpstream() {
        upstream.close();
    }

    @AfterEach
    void stopCamel() throws Exception {
        if (camel != null) {
            camel.close();
        }
    }

    private void start(Consumer<AppSettings> customize) throws Exception {
        AppSettings settings = new AppSettings();
        settings.getFetch().setAllowedHosts(List.of("localhost"));
        settings.getFetch().setResponseTimeout(Duration.ofMillis(500));
        settings.getFetch().setDeadline(Duration.ofSeconds(10));
        settings.getRetry().setInitialDelay(Duration.ofMillis(100));
        settings.getRetry().setMaxDelay(Duration.ofMillis(500));
        customize.accept(settings);
        camel = new DefaultCamelContext();
        camel.addRoutes(new HttpRetryConfiguration(settings.getRetry()));
        camel.addRoutes(new FetchRoutes(settings.getFetch()));
        camel.start();
        template = camel.createProducerTemplate();
        upstream.resetCounters();
    }

    @SuppressWarnings("unchecked")
    private List<JsonNode> fetch(List<String> urls) {
        return template.requestBody("direct:fetch-all", urls, List.class);
    }

    @Test
    void resultsKeepInputOrderAndEachItemHasItsValueOrItsError() throws Exception {
        start(s -> { });
        List<JsonNode> results = fetch(List.of(
                upstream.url("id=slow&delay=300"),
                upstream.url("id=fast"),
                upstream.url("id=missing&status=404"),
                upstream.url("id=text&text=1"),
                upstream.url("id=medium&delay=100"),
                upstream.url("id=broken&status=500")));

        assertThat(results).hasSize(6);
        assertThat(results).extracting(r -> r.path("url").asText()).containsExactly(
                upstream.url("id=slow&delay=300"), upstream.url("id=fast"), upstream.url("id=missing&status=404"),
                upstream.url("id=text&text=1"), upstream.url("id=medium&delay=100"), upstream.url("id=broken&status=500"));
        assertThat(results.get(0).path("ok").asBoolean()).isTrue();
        assertThat(results.get(0).path("body").path("id").asText()).isEqualTo("slow");
        assertThat(results.get(1).path("body").path("id").asText()).isEqualTo("fast");
        assertThat(results.get(2).path("ok").asBoolean()).isFalse();
        assertThat(results.get(2).path("status").asInt()).isEqualTo(404);
        assertThat(results.get(2).path("error").asText()).isEqualTo("HTTP 404");
        assertThat(results.get(3).path("error").asText()).isEqualTo("body is not JSON");
        assertThat(results.get(4).path("ok").asBoolean()).isTrue();
        // a 500 with a JSON body is an error, never a success
        assertThat(results.get(5).path("ok").asBoolean()).isFalse();
        assertThat(results.get(5).path("status").asInt()).isEqualTo(500);
        assertThat(results.get(5).has("body")).isFalse();
        assertThat(results).allSatisfy(r -> assertThat(r.path("millis").isNumber()).isTrue());
    }

    @Test
    void clientErrorsAreNotRetried() throws Exception {
        start(s -> { });
        JsonNode item = fetch(List.of(upstream.url("id=nf&status=404"))).get(0);

        assertThat(item.path("attempts").asInt()).isEqualTo(1);
        assertThat(upstream.arrivals("nf")).hasSize(1);
    }

    @Test
    void serverErrorsAreRetriedOnTheBackoffScheduleThenSucceed() throws Exception {
        start(s -> { });
        JsonNode item = fetch(List.of(upstream.url("id=flaky&fail=2&failStatus=503"))).get(0);

        assertThat(item.path("ok").asBoolean()).isTrue();
        assertThat(item.path("attempts").asInt()).isEqualTo(3);
        List<Long> at = upstream.arrivals("flaky");
        assertThat(at).hasSize(3);
        // 100 ms then 200 ms, each ±15 % jitter (plus scheduling slack on the upper side)
        assertGap(at.get(0), at.get(1), 100);
        assertGap(at.get(1), at.get(2), 200);
    }

    @Test
    void persistentServerErrorExhaustsTheAttempts() throws Exception {
        start(s -> { });
        JsonNode item = fetch(List.of(upstream.url("id=down&status=502"))).get(0);

        assertThat(item.path("ok").asBoolean()).isFalse();
        assertThat(item.path("status").asInt()).isEqualTo(502);
        assertThat(item.path("attempts").asInt()).isEqualTo(3);
        assertThat(upstream.arrivals("down")).hasSize(3);
    }

    @Test
    void timeoutsAreRetried() throws Exception {
        start(s -> s.getFetch().setResponseTimeout(Duration.ofMillis(150)));
        JsonNode item = fetch(List.of(upstream.url("id=sleepy&delay=2000"))).get(0);

        assertThat(item.path("ok").asBoolean()).isFalse();
        assertThat(item.path("error").asText()).startsWith("timeout");
        assertThat(item.path("attempts").asInt()).isEqualTo(3);
        assertThat(upstream.arrivals("sleepy")).hasSize(3);
    }

    @Test
    void retryAfterReplacesTheComputedDelay() throws Exception {
        start(s -> s.getRetry().setInitialDelay(Duration.ofSeconds(1)));
        JsonNode item = fetch(List.of(upstream.url("id=busy&fail=1&failStatus=429&retryAfter=0"))).get(0);

        assertThat(item.path("ok").asBoolean()).isTrue();
        // Retry-After: 0 instead of the 1 s backoff (at least 850 ms with jitter)
        assertThat(gapMillis(upstream.arrivals("busy"))).isLessThan(850);
    }

    @Test
    void retryAfterIsCappedAtTheMaximumDelay() throws Exception {
        start(s -> s.getRetry().setMaxDelay(Duration.ofMillis(800)));
        JsonNode item = fetch(List.of(upstream.url("id=greedy&fail=1&failStatus=429&retryAfter=60"))).get(0);

        assertThat(item.path("ok").asBoolean()).isTrue();
        // the server asked for 60 s: waited the 800 ms maximum, not the 100 ms backoff nor 60 s
        assertThat(gapMillis(upstream.arrivals("greedy"))).isBetween(800L, 2500L);
    }

    @Test
    void itemsNotDoneByTheDeadlineReportDeadlineExceeded() throws Exception {
        start(s -> {
            s.getFetch().setDeadline(Duration.ofMillis(1500));
            s.getFetch().setResponseTimeout(Duration.ofSeconds(5));
        });
        long started = System.nanoTime();
        List<JsonNode> results = fetch(List.of(upstream.url("id=late&delay=6000"), upstream.url("id=quick")));
        long millis = (System.nanoTime() - started) / 1_000_000;

        assertThat(results.get(0).path("ok").asBoolean()).isFalse();
        assertThat(results.get(0).path("error").asText()).isEqualTo(FetchItem.DEADLINE_EXCEEDED);
        assertThat(results.get(1).path("ok").asBoolean()).isTrue();
        assertThat(millis).isLessThan(4500); // returned at the deadline, not after the slow item
    }

    @Test
    void oversizedBodiesAreRefused() throws Exception {
        start(s -> s.getFetch().setMaxResponseBytes(64 * 1024));
        List<JsonNode> results = fetch(List.of(upstream.url("id=big&bytes=200000"), upstream.url("id=small&bytes=1000")));

        assertThat(results.get(0).path("error").asText()).startsWith("response larger than");
        assertThat(results.get(0).path("attempts").asInt()).isEqualTo(1);
        assertThat(results.get(1).path("ok").asBoolean()).isTrue();
    }

    @Test
    void ssrfTargetsAreRefusedUnlessAllowListed() throws Exception {
        start(s -> { });
        int port = upstream.port();
        List<JsonNode> results = fetch(List.of(
                "http://127.0.0.1:" + port + "/json?id=loop",
                "http://10.1.2.3/internal",
                "http://169.254.169.254/latest/meta-data/",
                "http://[::1]:" + port + "/json",
                "http://metadata.google.internal/computeMetadata/v1/",
                "file:///etc/passwd",
                "ftp://localhost/file",
                upstream.url("id=allowed")));

        assertThat(results.subList(0, 7)).allSatisfy(r -> {
            assertThat(r.path("ok").asBoolean()).isFalse();
            assertThat(r.path("error").asText()).startsWith("refused");
            assertThat(r.path("attempts").asInt()).isEqualTo(1);
        });
        assertThat(results.get(0).path("error").asText()).contains("loopback");
        assertThat(results.get(1).path("error").asText()).contains("private");
        assertThat(results.get(2).path("error").asText()).contains("link-local");
        assertThat(results.get(7).path("ok").asBoolean()).isTrue();
        assertThat(upstream.arrivals("loop")).isEmpty();
    }

    @Test
    void theGuardChecksTheAddressesTheClientConnectsTo() {
        SsrfGuard strict = new SsrfGuard(false, List.of());
        assertThatThrownBy(() -> strict.resolve("localhost")).isInstanceOf(SsrfGuard.RefusedTarget.class)
                .hasMessageContaining("loopback");
        SsrfGuard open = new SsrfGuard(true, List.of());
        assertThat(open.refusal(java.net.InetAddress.getLoopbackAddress())).isEqualTo("loopback");
    }

    @Test
    void aLargeFanOutIsReallyConcurrent() throws Exception {
        start(s -> {
            s.getFetch().setMaxConcurrency(256);
            // no timeouts here: a request the client gave up on still counts at the server until answered
            s.getFetch().setResponseTimeout(Duration.ofSeconds(10));
        });
        // a server of its own: slow requests of other tests may still be pending on the shared one
        try (UpstreamServer own = new UpstreamServer()) {
            List<String> urls = new ArrayList<>();
            IntStream.range(0, 1000).forEach(i -> urls.add(own.url("id=n" + i + "&delay=300")));

            List<JsonNode> results = fetch(urls);

            assertThat(results).hasSize(1000).allSatisfy(r -> assertThat(r.path("ok").asBoolean()).isTrue());
            assertThat(results.get(999).path("body").path("id").asText()).isEqualTo("n999");
            assertThat(own.maxInFlight()).isGreaterThanOrEqualTo(200).isLessThanOrEqualTo(256);
        }
    }

    @Test
    void aRequestInFlightHoldsNoThread() throws Exception {
        start(s -> {
            s.getFetch().setMaxConcurrency(1000);
            s.getFetch().setResponseTimeout(Duration.ofSeconds(10));
        });
        try (UpstreamServer own = new UpstreamServer()) {
            List<String> urls = new ArrayList<>();
            IntStream.range(0, 1000).forEach(i -> urls.add(own.url("id=t" + i + "&delay=5000")));
            java.lang.management.ThreadMXBean threads = java.lang.management.ManagementFactory.getThreadMXBean();
            int before = threads.getThreadCount();

            java.util.concurrent.CompletableFuture<Object> call = template.asyncRequestBody("direct:fetch-all", urls);
            // most of them at once (on a loaded machine a few connects may still be in SYN retries)
            await().atMost(Duration.ofSeconds(10)).until(() -> own.inFlight() >= 900);
            int during = threads.getThreadCount();

            assertThat(call.get(20, java.util.concurrent.TimeUnit.SECONDS)).asList().hasSize(1000)
                    .allSatisfy(r -> assertThat(((JsonNode) r).path("ok").asBoolean()).isTrue());
            // a thread per request would be +900; the reactor, the fetch pool and a few others are all it takes
            assertThat(during - before).as("threads added while 900+ requests were in flight").isLessThan(50);
        }
    }

    @Test
    void anAnswerThatNeverEndsIsCutOffEvenWhileBytesKeepComing() throws Exception {
        start(s -> {
            s.getFetch().setConnectTimeout(Duration.ofMillis(200));
            s.getFetch().setResponseTimeout(Duration.ofMillis(300));
        });
        long started = System.nanoTime();
        // a byte every 100 ms: the 300 ms read timeout never fires, the 500 ms cut-off does
        JsonNode item = fetch(List.of(upstream.url("id=drip&drip=100"))).get(0);
        long millis = (System.nanoTime() - started) / 1_000_000;

        assertThat(item.path("ok").asBoolean()).isFalse();
        assertThat(item.path("error").asText()).isEqualTo("timeout: no complete answer within 500 ms");
        assertThat(item.path("attempts").asInt()).isEqualTo(3); // a timeout is transient: retried
        assertThat(millis).isLessThan(5000);
    }

    @Test
    void redirectsAreNotFollowed() throws Exception {
        start(s -> { });
        JsonNode item = fetch(List.of(upstream.url("id=moved&redirect="
                + java.net.URLEncoder.encode(upstream.url("id=target"), java.nio.charset.StandardCharsets.UTF_8)))).get(0);

        assertThat(item.path("ok").asBoolean()).isFalse();
        assertThat(item.path("status").asInt()).isEqualTo(302);
        assertThat(item.path("attempts").asInt()).isEqualTo(1);
        assertThat(upstream.arrivals("target")).isEmpty();
    }

    @Test
    void bodiesWithoutALengthAreCappedWhileRead() throws Exception {
        start(s -> s.getFetch().setMaxResponseBytes(64 * 1024));
        List<JsonNode> results = fetch(List.of(upstream.url("id=bigchunks&bytes=200000&chunked=1"),
                upstream.url("id=smallchunks&bytes=1000&chunked=1")));

        assertThat(results.get(0).path("error").asText()).startsWith("response larger than");
        assertThat(results.get(0).path("attempts").asInt()).isEqualTo(1);
        assertThat(results.get(1).path("ok").asBoolean()).isTrue();
        assertThat(results.get(1).path("body").path("id").asText()).isEqualTo("smallchunks");
    }

    @Test
    void theClientChecksTheAddressItResolvesNotOnlyTheUrl() throws Exception {
        // nothing allow-listed: "localhost" passes the URL check (a name, not an address) and is
        // refused only when the client resolves it to the loopback address it would connect to
        start(s -> s.getFetch().setAllowedHosts(List.of()));
        JsonNode item = fetch(List.of(upstream.url("id=rebind"))).get(0);

        assertThat(item.path("ok").asBoolean()).isFalse();
        assertThat(item.path("error").asText()).isEqualTo("refused: localhost is a loopback address");
        assertThat(item.path("attempts").asInt()).isEqualTo(1);
        assertThat(upstream.arrivals("rebind")).isEmpty();
    }

    @Test
    void requestsWaitingForTheBoundNeverStartAfterTheDeadline() throws Exception {
        start(s -> {
            s.getFetch().setMaxConcurrency(2);
            s.getFetch().setDeadline(Duration.ofMillis(1600));
            s.getFetch().setResponseTimeout(Duration.ofSeconds(5));
        });
        FetchClient client = camel.getRegistry().lookupByNameAndType(FetchRoutes.CLIENT, FetchClient.class);
        fetch(List.of(upstream.url("id=warm"))); // the first request of a JVM pays for class loading
        List<String> urls = new ArrayList<>();
        IntStream.range(0, 6).forEach(i -> urls.add(upstream.url("id=q" + i + "&delay=1000")));

        List<JsonNode> results = fetch(urls);

        // two at a time (in no particular order): two answer after 1 s, two more start then and are
        // cut at the deadline, the last two get their turn only after it and are never sent
        assertThat(results).filteredOn(r -> r.path("ok").asBoolean()).hasSize(2);
        assertThat(results).filteredOn(r -> !r.path("ok").asBoolean())
                .allSatisfy(r -> assertThat(r.path("error").asText()).isEqualTo(FetchItem.DEADLINE_EXCEEDED));
        await().atMost(Duration.ofSeconds(3)).until(() -> client.inFlight() == 0 && client.waiting() == 0);
        List<Integer> sent = IntStream.range(0, 6).mapToObj(i -> upstream.arrivals("q" + i).size()).toList();
        // four sent once each (a timeout at the deadline is not retried), two never
        assertThat(sent).containsExactlyInAnyOrder(1, 1, 1, 1, 0, 0);
    }

    private static long gapMillis(List<Long> arrivals) {
        assertThat(arrivals).hasSizeGreaterThanOrEqualTo(2);
        return (arrivals.get(1) - arrivals.get(0)) / 1_000_000;
    }

    private static void assertGap(long from, long to, long delayMillis) {
        long gap = (to - from) / 1_000_000;
        // the lower bound is exact (jitter is at most -15 %); the upper one leaves room for a loaded
        // 2-core machine to be late in running the scheduled retry
        assertThat(gap).as("gap before a retry scheduled at %d ms", delayMillis)
                .isGreaterThanOrEqualTo((long) (delayMillis * 0.85))
                .isLessThanOrEqualTo((long) (delayMillis * 1.15) + 1000);
    }
}
