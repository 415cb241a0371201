package io.asyncroutes.bench;

import com.fasterxml.jackson.databind.JsonNode;
import io.asyncroutes.fetch.FetchRoutes;
import io.asyncroutes.fetch.HttpRetryConfiguration;
import io.asyncroutes.fetch.UpstreamServer;
import io.asyncroutes.settings.AppSettings;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.camel.CamelContext;
import org.apache.camel.ProducerTemplate;
import org.apache.camel.impl.DefaultCamelContext;
import org.junit.jupiter.api.Test;

/**
 * Fan-out benchmark (README "Benchmarks"): wall time of one {@code fetch-all} over N URLs, each answered by a
 * local upstream after a fixed delay, through the real route (parallel split, the non-blocking
 * {@code FetchClient}, pooled connections, ordered gather), without the HTTP API around it (that is
 * {@link ApiFanOutBenchmark}). Not a test: run on purpose with
 * {@code mvn -B test -Pbench -Dtest=FanOutBenchmark}. Prints a Markdown table.
 *
 * <p>{@code app.fetch.max-concurrency} is set to 1000 here so that a 1000-URL fan-out can be in
 * flight at once (the production default is 256).
 */
public final class FanOutBenchmark {

    private static final int[] SIZES = {10, 100, 1000};
    private static final int[] DELAYS = {0, 50, 200};

    @Test
    void fanOut() throws Exception {
        main(new String[0]);
    }

    public static void main(String[] args) throws Exception {
        int runs = Integer.getInteger("bench.runs", 15);
        AppSettings settings = new AppSettings();
        settings.getFetch().setAllowedHosts(List.of("localhost"));
        settings.getFetch().setMaxConcurrency(1000);
        settings.getFetch().setResponseTimeout(Duration.ofSeconds(10));

        try (UpstreamServer upstream = new UpstreamServer(); CamelContext camel = new DefaultCamelContext()) {
            camel.addRoutes(new HttpRetryConfiguration(settings.getRetry()));
            camel.addRoutes(new FetchRoutes(settings.getFetch()));
            camel.start();
            ProducerTemplate template = camel.createProducerTemplate();

            // JIT warm-up over every code path before anything is measured
            for (int delay : new int[] {0, 50}) {
                List<String> warm = new ArrayList<>();
                for (int i = 0; i < 1000; i++) {
                    warm.add(upstream.url("id=u" + i + "&delay=" + delay));
                }
                for (int i = 0; i < 30; i++) {
                    run(template, warm);
                }
            }
            System.out.printf("machine: %d cores, %s %s, %s%n", Runtime.getRuntime().availableProcessors(),
                    System.getProperty("java.vm.name"), System.getProperty("java.version"), System.getProperty("os.name"));
            System.out.printf("runs per cell: %d (after a JIT warm-up of 60 fan-outs of 1000 and %d warm-up runs per cell)%n%n", runs, 5);
            System.out.println("| URLs | delay | median ms | min ms | max ms | max in flight | target |");
            System.out.println("|---:|---:|---:|---:|---:|---:|---|");
            for (int delay : DELAYS) {
                for (int size : SIZES) {
                    List<String> urls = new ArrayList<>(size);
                    for (int i = 0; i < size; i++) {
                        urls.add(upstream.url("id=u" + i + "&delay=" + delay));
                    }
                    for (int i = 0; i < 5; i++) {
                        run(template, urls);
                    }
                    upstream.resetCounters();
                    double[] wall = new double[runs];
                    for (int i = 0; i < runs; i++) {
                        wall[i] = run(template, urls);
                    }
                    if (Boolean.getBoolean("bench.verbose")) {
                        System.out.println(size + "x" + delay + " " + Arrays.toString(wall));
                    }
                    Arrays.sort(wall);
                    System.out.printf("| %d | %d ms | %.1f | %.1f | %.1f | %d | %s |%n", size, delay, wall[runs / 2], wall[0],
                            wall[runs - 1], upstream.maxInFlight(), target(size, delay, wall[runs / 2]));
                }
            }
        }
    }

    @SuppressWarnings("unchecked")
    private static double run(ProducerTemplate template, List<String> urls) {
        long started = System.nanoTime();
        List<JsonNode> results = template.requestBody("direct:fetch-all", urls, List.class);
        double millis = (System.nanoTime() - started) / 1e6;
        for (int i = 0; i < results.size(); i++) {
            JsonNode item = results.get(i);
            if (!item.path("ok").asBoolean() || !item.path("body").path("id").asText().equals("u" + i)) {
                throw new IllegalStateException("wrong or failed item " + i + ": " + item);
            }
        }
        return millis;
    }

    private static String target(int size, int delay, double median) {
        if (size == 1000 && delay == 200) {
            return verdict(median, 250);
        }
        if (size == 100 && delay == 50) {
            return verdict(median, 65);
        }
        if (size == 1000 && delay == 0) {
            return verdict(median, 150);
        }
        return "";
    }

    private static String verdict(double median, double limit) {
        return (median <= limit ? "met" : "MISSED") + " (≤ " + (int) limit + " ms)";
    }
}
