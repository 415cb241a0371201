package io.asyncroutes.bench;

import io.asyncroutes.AsyncRoutesApplication;
import io.asyncroutes.chat.LocalOpenAiServer;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * SSE relay latency (README "Benchmarks"): how long after a chunk leaves the upstream LLM server does the SSE
 * client of {@code POST /api/chat} receive it. The whole application runs (embedded profile,
 * Tomcat, platform-http, the chat-stream route, langchain4j's streaming client); the upstream is
 * {@link LocalOpenAiServer} in the same JVM, so both timestamps come from one clock.
 *
 * <p>Run on purpose: {@code mvn -B test -Pbench -Dtest=SseRelayBenchmark}.
 */
public final class SseRelayBenchmark {

    @Test
    void sseRelay() throws Exception {
        main(new String[0]);
    }

    public static void main(String[] args) throws Exception {
        int streams = Integer.getInteger("bench.streams", 40);
        int chunks = 50;
        int gapMillis = 20;
        String model = "words-" + chunks + "-" + gapMillis;
        try (LocalOpenAiServer llm = new LocalOpenAiServer()) {
            ConfigurableApplicationContext app = new SpringApplicationBuilder(AsyncRoutesApplication.class).run(
                    "--app.data-dir=" + Files.createTempDirectory("ar-bench-"),
                    "--spring.data.redis.port=" + freePort(),
                    "--server.port=0",
                    "--app.llm.base-url=" + llm.baseUrl(),
                    "--logging.level.root=WARN",
                    // PerfTest's registries (bench profile), which the application does not have
                    "--management.datadog.metrics.export.enabled=false",
                    "--management.jmx.metrics.export.enabled=false");
            try {
                String url = "http://127.0.0.1:" + app.getEnvironment().getProperty("local.server.port") + "/api/chat";
                HttpClient client = HttpClient.newHttpClient();
                List<Double> first = new ArrayList<>();
                List<Double> all = new ArrayList<>();
                for (int s = -5; s < streams; s++) { // 5 warm-up streams
                    List<Long> received = stream(client, url, model);
                    List<Long> emitted = llm.calls(model).get(llm.calls(model).size() - 1).emittedNanos;
                    if (received.size() != chunks || emitted.size() != chunks) {
                        throw new IllegalStateException("stream incomplete: " + received.size() + "/" + emitted.size());
                    }
                    if (s >= 0) {
                        first.add((received.get(0) - emitted.get(0)) / 1e6);
                        for (int i = 0; i < chunks; i++) {
                            all.add((received.get(i) - emitted.get(i)) / 1e6);
                        }
                    }
                }
                System.out.printf("machine: %d cores, %s %s%n", Runtime.getRuntime().availableProcessors(),
                        System.getProperty("java.vm.name"), System.getProperty("java.version"));
                System.out.printf("%d streams x %d chunks, %d ms apart%n%n", streams, chunks, gapMillis);
                System.out.println("| delay from upstream emit to SSE client receive | median ms | p99 ms | max ms | target |");
                System.out.println("|---|---:|---:|---:|---|");
                row("first chunk", first, true);
                row("every chunk", all, false);
            } finally {
                app.close();
            }
        }
    }

    private static List<Long> stream(HttpClient client, String url, String model) throws Exception {
        HttpRequest request = HttpRequest.newBuilder(URI.create(url)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],"
                        + "\"model\":\"" + model + "\",\"stream\":true}"))
                .build();
        HttpResponse<InputStream> response = client.send(request, HttpResponse.BodyHandlers.ofInputStream());
        List<Long> received = new ArrayList<>();
        try (BufferedReader reader = new BufferedReader(new InputStreamReader(response.body(), StandardCharsets.UTF_8))) {
            for (String line = reader.readLine(); line != null; line = reader.readLine()) {
                if (line.startsWith("data: {\"content\"")) {
                    received.add(System.nanoTime());
                }
            }
        }
        return received;
    }

    private static void row(String what, List<Double> values, boolean target) {
        double[] v = values.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        double median = v[v.length / 2];
        double p99 = v[(int) Math.min(v.length - 1, Math.ceil(v.length * 0.99) - 1)];
        System.out.printf("| %s | %.2f | %.2f | %.2f | %s |%n", what, median, p99, v[v.length - 1],
                target ? (median <= 5 ? "met (≤ 5 ms median)" : "MISSED (≤ 5 ms median)") : "");
    }

    private static int freePort() throws Exception {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }
}
