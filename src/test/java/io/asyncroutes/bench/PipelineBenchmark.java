package io.asyncroutes.bench;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import io.asyncroutes.AsyncRoutesApplication;
import io.asyncroutes.support.EmbeddedProfileTest;
import io.asyncroutes.support.Http;
import io.asyncroutes.support.ServicesProfileTest;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The pipeline benchmark (README "Benchmarks"), run on purpose: {@code mvn -B test -Pbench -Dtest=PipelineBenchmark}
 * (needs PostgreSQL, Redis and RabbitMQ with the consistent-hash plugin on localhost, and {@code wrk}:
 * {@code apt-get install wrk}). The application runs as its own process, as a user runs it.
 *
 * <ol>
 *   <li>RabbitMQ PerfTest (2 producers, 2 consumers, persistent, confirms, 300 B, 15 s): the broker's rate.</li>
 *   <li>{@code services}: a backlog of 20 000 messages over 1 000 threads published over AMQP to
 *   {@code <exchange>.in} (routing key = thread id, seq in order per thread, shuffled within windows of
 *   50) while the application is stopped; then it starts and drains it into PostgreSQL. Rate =
 *   rows / (last stored − first stored); statuses; per-thread order checked in the database.</li>
 *   <li>{@code services} REST intake: wrk, 32 connections, 15 s (after 10 s of warm-up): accepted req/s, p99.</li>
 *   <li>The same intake alone: what it accepts published to a queue nobody reads, no pipeline behind it.</li>
 *   <li>Accept → stored latency p50/p99 at half and at a quarter of that rate: wrk again, each connection
 *   waiting between requests (a Lua {@code delay()}, calibrated by a 5 s probe), for 30 s; with the
 *   machine's busy share and CPU per request over that window.</li>
 *   <li>Embedded default: wrk for 15 s (after warm-up), again after 6 minutes under load, then a
 *   graceful stop; rate = rows accepted in a window / (last stored − first accepted).</li>
 * </ol>
 */
class PipelineBenchmark {

    private static final int MESSAGES = Integer.getInteger("bench.messages", 20_000);
    private static final int THREADS = Integer.getInteger("bench.threads", 1_000);
    private static final String SCHEMA = "ar_bench";
    /** Paused drains in a run: the median is reported. */
    private static final int PAUSED_DRAINS = 3;
    private static final String PREFIX = "ar-bench";
    private static final String API_KEY = "bench-key";
    /** How long each paced latency window lasts. */
    private static final int PACED_SECONDS = 30;
    /** Which parts to run, comma-separated: perftest, publish, drain, rest, intake, embedded (default: all). */
    private static final List<String> PARTS = List.of(System.getProperty("bench.parts", "perftest,publish,drain,rest,intake,embedded").split(","));

    @Test
    void pipeline() throws Exception {
        Map<String, String> results = new TreeMap<>() {
            @Override
            public String put(String key, String value) {
                System.out.printf("RESULT %s: %s%n", key, value);
                return super.put(key, value);
            }
        };
        System.out.printf("machine: %d cores, %s %s%n", Runtime.getRuntime().availableProcessors(),
                System.getProperty("java.vm.name"), System.getProperty("java.version"));
        double perfTest = PARTS.contains("perftest") ? perfTest() : Double.NaN;
        results.put("1 RabbitMQ PerfTest (2x2, persistent, confirms, 300 B)", String.format("%,.0f msg/s", perfTest));

        ServicesProfileTest.wipe(SCHEMA, PREFIX + ":", PREFIX);
        int port = EmbeddedProfileTest.freePort();
        // kept after the run (unlike the suite's temporary directories): the logs behind the figures
        Path logs = Files.createTempDirectory("ar-bench-");
        System.out.printf("application logs: %s%n", logs);
        Process app = startServices(port, logs, "topology");
        awaitHealthy(port);
        stop(app);

        if (PARTS.contains("publish")) {
            results.put("1b RabbitMQ alone, the REST intake's broker work (32 publishers, one confirmed message each)",
                    confirmedPublishes());
        }
        if (PARTS.contains("drain")) {
            publishBacklog("bq-");
        }
        long started = System.nanoTime();
        long startedAtMillis = System.currentTimeMillis();
        app = startServices(port, logs, "drain");
        try {
            awaitHealthy(port);
            if (PARTS.contains("drain")) {
                double wall = awaitStored("bq-", started);
                results.put("2 services: 20 000-message AMQP backlog drained into PostgreSQL, cold start", drained("bq-", perfTest)
                        + String.format("; wall incl. start %.1f s", wall));
                // the same again on the now warm JVM: published at full speed while the app runs, so the
                // queues fill faster than they drain
                // the JIT compilers take up to half a core for the first minute or two of a drain on 2 cores:
                // warm drains again (at most 8) until they spend under 5 % of the application's CPU, so that
                // the paused drain below measures the running service, not its warm-up. Also until the first
                // tick of cleanup-expired (a Quartz cron, every minute) has run: its route passes other types
                // through code the pipeline shares (type converters, the SQL producer, stream caching), the
                // JIT throws away what it compiled for the pipeline's types alone and compiles it again, a
                // one-off burst that took a quarter of the application's CPU in a paused drain it fell into
                for (int round = 0; round < 8; round++) {
                    String prefix = round == 0 ? "bw-" : "bw" + round + "-";
                    boolean cleanupTicked = cleanupTickedSince(startedAtMillis);
                    publishBacklog(prefix);
                    double jitShare = jitShare(app.pid(), () -> awaitStored(prefix, System.nanoTime()));
                    results.put("3 services: 20 000-message AMQP backlog drained into PostgreSQL, warm" + (round == 0 ? "" : " (again)"),
                            drained(prefix, perfTest) + String.format("; JIT compilers %.0f %% of the app's CPU", 100 * jitShare)
                            + (cleanupTicked ? "" : "; before the first cleanup tick"));
                    if (jitShare < 0.05 && cleanupTicked) {
                        break;
                    }
                }
                // where the CPU goes: the backlog published while the application is paused, then drained;
                // CPU time of each process over the drain alone, per message. Three times: the machine's speed
                // moves from drain to drain, the median is the figure
                List<Double> pausedRates = new ArrayList<>();
                for (int round = 1; round <= PAUSED_DRAINS; round++) {
                    String prefix = "bc" + round + "-";
                    paused(app, true);
                    publishBacklog(prefix);
                    Map<String, Long> before = cpuTicks(app);
                    long switchesBefore = contextSwitches(app.pid());
                    long jitBefore = jitTicks(app.pid());
                    Map<String, Map.Entry<String, Long>> threadsBefore = threadGroupTicks(app.pid());
                    long drainStarted = System.nanoTime();
                    paused(app, false);
                    awaitStored(prefix, drainStarted);
                    pausedRates.add(drainRate(prefix));
                    results.put("3b services: CPU ms per message over a warm drain (app paused while the backlog was published), "
                            + round + " of " + PAUSED_DRAINS,
                            drained(prefix, perfTest) + "; CPU ms/msg: " + cpuPerMessage(before, cpuTicks(app), MESSAGES)
                            + String.format(" (of the app's: JIT compilers %.3f)",
                                    (jitTicks(app.pid()) - jitBefore) * 1000.0 / TICKS_PER_SECOND / MESSAGES)
                            // a count, not a time: steady on a machine whose speed varies from run to run
                            + String.format("; app thread switches per message %.2f",
                                    (contextSwitches(app.pid()) - switchesBefore) / (double) MESSAGES)
                            + "; app CPU by thread: " + threadShares(threadsBefore, threadGroupTicks(app.pid())));
                }
                Collections.sort(pausedRates);
                double median = pausedRates.get(pausedRates.size() / 2);
                results.put("3c services: warm drain while paused, median of " + PAUSED_DRAINS, String.format(
                        "%,.0f msg/s (%.1f%% of PerfTest); all: %s", median, 100 * median / perfTest,
                        pausedRates.stream().map(r -> String.format("%,.0f", r)).toList()));
            }

            if (PARTS.contains("rest") && hasWrk()) {
                String api = "http://127.0.0.1:" + port + "/api/messages";
                String warmUp = warmUp(api, API_KEY, "ww", app.pid());
                Map<String, Long> before = cpuTicks(app);
                double[] intake = wrk(api, 15, API_KEY, "wr");
                // the pipeline handles and stores what wrk posts while wrk runs: CPU per accepted request is
                // the whole path's, and far steadier from run to run than the rate on a shared machine
                results.put("4 services: REST intake, wrk 32 connections 15 s", String.format(
                        "%,.0f accepted req/s, p99 %.1f ms; CPU ms per accepted request: %s; %s", intake[0], intake[1],
                        cpuPerMessage(before, cpuTicks(app), Math.round(intake[0] * 15)), warmUp));
                // what wrk left on the queues is stored first: the paced messages would otherwise queue behind it
                // and the figure be the backlog's, not the latency at that rate
                awaitSettled("wr");
                results.put("5 services: accept -> stored latency at half that rate", pacedLatency(app, api, intake[0] / 2, "lat"));
                // half the burst rate is not half the machine (the broker buffers part of a burst, and CPU per message
                // rises as the rate falls): a quarter shows the latency with cores to spare
                results.put("5b services: accept -> stored latency at a quarter of that rate",
                        pacedLatency(app, api, intake[0] / 4, "laq"));
            }
        } finally {
            stop(app);
        }

        if (PARTS.contains("intake") && hasWrk()) {
            results.put("4b services: the REST intake alone (to a queue nobody reads), wrk 32 connections 15 s", intakeAlone(port, logs));
        }

        if (PARTS.contains("embedded") && hasWrk()) {
            String[] embedded = embedded();
            results.put("6 embedded default: REST end to end, wrk 32 connections 15 s", embedded[0]);
            results.put("7 embedded default: the same after " + EMBEDDED_SUSTAINED_MINUTES + " min under load", embedded[1]);
        }
        System.out.println();
        results.forEach((what, value) -> System.out.printf("| %s | %s |%n", what.substring(2), value));
        // leave nothing behind: ~100 000 Redis keys per run (idempotency 24 h, ordering state 7 d) make every
        // SCAN on this machine slower, the cleanup tick's included (a 1 s cron test missed ticks after a few runs)
        ServicesProfileTest.wipe(SCHEMA, PREFIX + ":", PREFIX);
    }

    // ------------------------------------------------------------------ the parts

    private static double perfTest() throws Exception {
        Process p = new ProcessBuilder(javaBin(), "-Xmx256m", "-cp", classpath(), "com.rabbitmq.perf.PerfTest",
                "-h", "amqp://guest:guest@127.0.0.1:5672", "-x", "2", "-y", "2", "-f", "persistent", "-c", "100",
                "-s", "300", "-z", "15", "-u", "ar-bench-perftest", "-ad", "true", "-i", "5")
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        p.waitFor(60, TimeUnit.SECONDS);
        Matcher m = Pattern.compile("receiving rate avg: (\\d+) msg/s").matcher(out);
        if (!m.find()) {
            throw new IllegalStateException("PerfTest printed no rate:\n" + out);
        }
        return Double.parseDouble(m.group(1));
    }

    /**
     * The broker's share of a REST intake, without the application: 32 publishers (wrk's 32 connections)
     * each publish one persistent message to the inbound exchange and wait for its confirm before the
     * next, as {@code POST /api/messages} does before it answers 202; routing keys over 1 000 thread ids,
     * so over all partitions. Its rate bounds the REST intake on this machine, and RabbitMQ's CPU per
     * message is what each accepted request costs the broker before the pipeline touches it. The
     * messages are purged afterwards.
     */
    private static String confirmedPublishes() throws Exception {
        ConnectionFactory factory = new ConnectionFactory();
        factory.setHost("127.0.0.1");
        AMQP.BasicProperties persistent = new AMQP.BasicProperties.Builder()
                .deliveryMode(2).contentType("application/json").build();
        List<Connection> connections = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            connections.add(factory.newConnection()); // the application's publisher has 4 channels, here 4 connections
        }
        java.util.concurrent.atomic.AtomicLong published = new java.util.concurrent.atomic.AtomicLong();
        // each publisher's confirm round trips, in microseconds: the broker's own latency at this concurrency,
        // the floor under the REST intake's accept latency (which adds Tomcat and the application around it)
        List<long[]> roundTrips = Collections.synchronizedList(new ArrayList<>());
        java.util.concurrent.ExecutorService publishers = java.util.concurrent.Executors.newFixedThreadPool(32);
        try {
            java.util.function.LongSupplier ticks = () -> {
                try {
                    return processTicks(pids("beam.smp"));
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            };
            long seconds = 15;
            long before = ticks.getAsLong();
            long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
            List<java.util.concurrent.Future<?>> running = new ArrayList<>();
            for (int p = 0; p < 32; p++) {
                Connection connection = connections.get(p % connections.size());
                running.add(publishers.submit(() -> {
                    long[] mine = new long[1 << 16];
                    int n = 0;
                    try (Channel channel = connection.createChannel()) {
                        channel.confirmSelect();
                        Random random = new Random();
                        while (System.nanoTime() < end) {
                            String thread = "yp-" + random.nextInt(THREADS);
                            long sent = System.nanoTime();
                            channel.basicPublish(PREFIX + ".in", thread, persistent, ("{\"threadId\":\"" + thread
                                    + "\",\"content\":\"" + "x".repeat(200) + "\"}").getBytes(StandardCharsets.UTF_8));
                            channel.waitForConfirmsOrDie(10_000);
                            if (n < mine.length) {
                                mine[n++] = (System.nanoTime() - sent) / 1_000;
                            }
                            published.incrementAndGet();
                        }
                    }
                    roundTrips.add(Arrays.copyOf(mine, n));
                    return null;
                }));
            }
            for (var f : running) {
                f.get();
            }
            double rate = published.get() / (double) seconds;
            double beamMs = (ticks.getAsLong() - before) * 1000.0 / TICKS_PER_SECOND / published.get();
            long[] all = roundTrips.stream().flatMapToLong(Arrays::stream).sorted().toArray();
            return String.format("%,.0f msg/s; confirm round trip p50 %.1f ms, p99 %.1f ms; RabbitMQ CPU %.3f ms per message",
                    rate, all[all.length / 2] / 1000.0, all[(int) (all.length * 0.99)] / 1000.0, beamMs);
        } finally {
            publishers.shutdownNow();
            try (Channel channel = connections.get(0).createChannel()) {
                for (int q = 0; q < 16; q++) { // the inbound partitions of config/application-services.yaml
                    channel.queuePurge(PREFIX + ".in." + q);
                }
            }
            for (Connection c : connections) {
                c.close();
            }
        }
    }

    private static void publishBacklog(String threadPrefix) throws Exception {
        List<String[]> messages = new ArrayList<>(MESSAGES);
        for (int i = 0; i < MESSAGES; i++) {
            int t = i % THREADS;
            int seq = i / THREADS + 1;
            String thread = threadPrefix + t;
            messages.add(new String[] {thread, "{\"id\":\"" + thread + "-" + seq + "\",\"threadId\":\"" + thread
                    + "\",\"seq\":" + seq + ",\"content\":\"message " + seq + " of thread " + t + "\"}"});
        }
        Random random = new Random(11);
        for (int i = 0; i < MESSAGES; i += 50) {
            Collections.shuffle(messages.subList(i, Math.min(MESSAGES, i + 50)), random); // local disorder
        }
        ConnectionFactory factory = new ConnectionFactory();
        factory.setHost("127.0.0.1");
        try (Connection connection = factory.newConnection(); Channel channel = connection.createChannel()) {
            channel.confirmSelect();
            AMQP.BasicProperties persistent = new AMQP.BasicProperties.Builder()
                    .deliveryMode(2).contentType("application/json").build();
            for (String[] m : messages) {
                channel.basicPublish(PREFIX + ".in", m[0], persistent, m[1].getBytes(StandardCharsets.UTF_8));
            }
            channel.waitForConfirmsOrDie(60_000);
        }
    }

    /** Linux's USER_HZ: /proc/<pid>/stat counts CPU time in these. */
    private static final long TICKS_PER_SECOND = 100;

    private static void paused(Process app, boolean pause) throws Exception {
        new ProcessBuilder("kill", pause ? "-STOP" : "-CONT", String.valueOf(app.pid())).inheritIO().start().waitFor();
    }

    /** CPU time (user + system, ticks) of the application and of each service's processes, from /proc. */
    private static Map<String, Long> cpuTicks(Process app) throws Exception {
        Map<String, Long> ticks = new java.util.LinkedHashMap<>();
        ticks.put("app", processTicks(List.of(app.pid())));
        ticks.put("RabbitMQ", processTicks(pids("beam.smp")));
        ticks.put("Redis", processTicks(pids("redis-server")));
        ticks.put("PostgreSQL", processTicks(pids("postgres")));
        return ticks;
    }

    /** The whole machine's CPU ticks from /proc/stat: {busy, all}; idle and I/O wait are not busy. */
    private static long[] machineTicks() throws java.io.IOException {
        String[] cpu = Files.readAllLines(Path.of("/proc/stat")).get(0).trim().split("\\s+");
        long all = 0;
        for (int i = 1; i < cpu.length; i++) {
            all += Long.parseLong(cpu[i]);
        }
        return new long[] {all - Long.parseLong(cpu[4]) - Long.parseLong(cpu[5]), all};
    }

    /** Share of the machine's CPU busy since that reading. */
    private static double machineBusyPercent(long[] before) throws java.io.IOException {
        long[] now = machineTicks();
        return 100.0 * (now[0] - before[0]) / Math.max(1, now[1] - before[1]);
    }

    /** Each process's CPU between two readings, per message, in ms. */
    private static String cpuPerMessage(Map<String, Long> before, Map<String, Long> after, long messages) {
        StringBuilder cpu = new StringBuilder();
        after.forEach((process, ticks) -> cpu.append(cpu.isEmpty() ? "" : ", ").append(String.format("%s %.3f",
                process, (ticks - before.get(process)) * 1000.0 / TICKS_PER_SECOND / messages)));
        return cpu.toString();
    }

    private static List<Long> pids(String name) throws Exception {
        Process p = new ProcessBuilder("pgrep", "-x", name).start(); // the process name, not a command line that mentions it
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        p.waitFor();
        return out.lines().filter(l -> !l.isBlank()).map(Long::parseLong).toList();
    }

    private static long processTicks(List<Long> pids) {
        long sum = 0;
        for (long pid : pids) {
            try {
                sum += statTicks(Path.of("/proc/" + pid + "/stat"));
            } catch (java.io.IOException | RuntimeException gone) {
                // a process that ended in between (a PostgreSQL backend): not counted
            }
        }
        return sum;
    }

    /**
     * wrk rounds of 10 s until the JIT compilers spend under 5 % of the application's CPU in one (at
     * most 8): a JVM on 2 cores compiles for a minute or more under load, and a measurement taken
     * meanwhile is of the warm-up, not of the running service.
     */
    private static String warmUp(String url, String apiKey, String threadPrefix, long pid) throws Exception {
        double share = 1;
        int rounds = 0;
        // the embedded default (Artemis, H2, JMS and the rest compiled in one JVM) needed ~14 rounds on 2 cores
        // before its compilers fell under 5 %, and accepted 1 200-1 500 req/s after against ~800 at round 8
        while (share >= 0.05 && rounds < 24) {
            share = jitShare(pid, () -> wrk(url, 10, apiKey, threadPrefix));
            rounds++;
        }
        return String.format("warm-up %d x 10 s, JIT compilers %.0f %% of the app's CPU in its last round", rounds, 100 * share);
    }

    /** utime + stime of a process's or thread's {@code stat} file. */
    private static long statTicks(Path stat) throws java.io.IOException {
        String text = Files.readString(stat);
        // fields after the command name (which may hold spaces): state is field 3, utime 14, stime 15
        String[] fields = text.substring(text.lastIndexOf(')') + 2).split(" ");
        return Long.parseLong(fields[11]) + Long.parseLong(fields[12]);
    }

    /** The share of the process's CPU its JIT compilers took while {@code work} ran. */
    private static double jitShare(long pid, java.util.concurrent.Callable<?> work) throws Exception {
        long appBefore = processTicks(List.of(pid));
        long jitBefore = jitTicks(pid);
        work.call();
        return (jitTicks(pid) - jitBefore) / (double) Math.max(1, processTicks(List.of(pid)) - appBefore);
    }

    /** CPU ticks of the process's JIT compiler threads so far ({@code C1/C2 CompilerThread*}). */
    private static long jitTicks(long pid) {
        long sum = 0;
        try (var tasks = Files.list(Path.of("/proc/" + pid + "/task"))) {
            for (Path task : tasks.toList()) {
                try {
                    if (Files.readString(task.resolve("comm")).matches("C[12] CompilerThre.*\\s*")) {
                        sum += statTicks(task.resolve("stat"));
                    }
                } catch (java.io.IOException | RuntimeException gone) {
                    // a compiler thread that ended in between (they come and go with the load)
                }
            }
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        return sum;
    }

    /**
     * CPU ticks of the process's threads so far, by thread id, each with its group: its name without
     * its numbers ({@code ar-ordering-3} and {@code ar-ordering-7} are one group). Linux keeps 15
     * characters of a thread's name, so Camel's pool threads ({@code Camel (camel-1) thread #…}) are one group.
     */
    private static Map<String, Map.Entry<String, Long>> threadGroupTicks(long pid) {
        Map<String, Map.Entry<String, Long>> threads = new java.util.HashMap<>();
        try (var tasks = Files.list(Path.of("/proc/" + pid + "/task"))) {
            for (Path task : tasks.toList()) {
                try {
                    String group = Files.readString(task.resolve("comm")).strip().replaceAll("[-#]?\\d+", "").strip();
                    threads.put(task.getFileName().toString(), Map.entry(group, statTicks(task.resolve("stat"))));
                } catch (java.io.IOException | RuntimeException gone) {
                    // a thread that ended in between
                }
            }
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        return threads;
    }

    /**
     * The thread groups that took at least 2 % of the CPU between two readings, largest first, as
     * shares. Per thread: a pool thread that ended in between (Artemis's come and go) must not take
     * its earlier ticks off its group, and one that started counts whole.
     */
    private static String threadShares(Map<String, Map.Entry<String, Long>> before, Map<String, Map.Entry<String, Long>> after) {
        Map<String, Long> spent = new java.util.HashMap<>();
        after.forEach((thread, ticks) -> {
            Map.Entry<String, Long> earlier = before.get(thread);
            spent.merge(ticks.getKey(), ticks.getValue() - (earlier == null ? 0L : earlier.getValue()), Long::sum);
        });
        long total = Math.max(1, spent.values().stream().mapToLong(Long::longValue).sum());
        return spent.entrySet().stream().filter(e -> e.getValue() * 50 >= total)
                .sorted(Map.Entry.<String, Long>comparingByValue().reversed())
                .map(e -> String.format("%s %.0f %%", e.getKey(), 100.0 * e.getValue() / total))
                .collect(java.util.stream.Collectors.joining(", "));
    }

    /** Context switches (voluntary and not) of all the process's threads so far, from /proc; threads that ended are not counted. */
    private static long contextSwitches(long pid) {
        long sum = 0;
        try (var tasks = Files.list(Path.of("/proc/" + pid + "/task"))) {
            for (Path task : tasks.toList()) {
                try {
                    for (String line : Files.readAllLines(task.resolve("status"))) {
                        if (line.startsWith("voluntary_ctxt_switches:") || line.startsWith("nonvoluntary_ctxt_switches:")) {
                            sum += Long.parseLong(line.substring(line.indexOf(':') + 1).trim());
                        }
                    }
                } catch (java.io.IOException | RuntimeException gone) {
                    // a thread that ended in between
                }
            }
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        return sum;
    }

    private static double awaitStored(String threadPrefix, long started) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(10);
        while (count("SELECT count(*) FROM ar_message WHERE thread_id LIKE '" + threadPrefix + "%'") < MESSAGES
                && System.nanoTime() < deadline) {
            Thread.sleep(250);
        }
        return (System.nanoTime() - started) / 1e9;
    }

    /** Rows / (last stored_at - first stored_at) of one backlog. */
    private static double drainRate(String threadPrefix) throws Exception {
        return MESSAGES / seconds("SELECT EXTRACT(EPOCH FROM max(stored_at) - min(stored_at)) FROM ar_message WHERE thread_id LIKE '"
                + threadPrefix + "%'");
    }

    /** Drain rate (first to last stored row), its share of PerfTest's rate, statuses, rows out of seq order. */
    private static String drained(String threadPrefix, double perfTest) throws Exception {
        String rows = "FROM ar_message WHERE thread_id LIKE '" + threadPrefix + "%'";
        double drain = drainRate(threadPrefix);
        long outOfOrder = count("SELECT count(*) FROM (SELECT seq, lag(seq) OVER (PARTITION BY thread_id ORDER BY stored_order) AS prev "
                + rows + ") x WHERE prev IS NOT NULL AND seq <> prev + 1");
        return String.format("%,.0f msg/s (%.1f%% of PerfTest); statuses %s; out-of-order rows %d",
                drain, 100 * drain / perfTest, statuses(threadPrefix + "%"), outOfOrder);
    }

    /**
     * The embedded default twice: right after its warm-up, and again once it has been under load for
     * 6 minutes ({@code -Dbench.embeddedMinutes}; an unread results queue had pushed every queue of
     * the embedded broker into paging by then, which a window right after the warm-up did not see).
     */
    private static String[] embedded() throws Exception {
        Path dataDir = EmbeddedProfileTest.tempDir("ar-bench-embedded-");
        int port = EmbeddedProfileTest.freePort();
        Process app = start(dataDir, List.of("--app.data-dir=" + dataDir, "--server.port=" + port,
                "--spring.data.redis.port=" + EmbeddedProfileTest.freePort(), THREAD_NAMES), "embedded");
        Window[] windows = new Window[2];
        String warmUp;
        try {
            awaitHealthy(port);
            long loadStarted = System.nanoTime();
            String api = "http://127.0.0.1:" + port + "/api/messages";
            warmUp = warmUp(api, null, "ew", app.pid());
            windows[0] = window(api, app.pid(), "er");
            while (System.nanoTime() - loadStarted < TimeUnit.MINUTES.toNanos(EMBEDDED_SUSTAINED_MINUTES)) {
                wrk(api, 10, null, "es");
            }
            windows[1] = window(api, app.pid(), "ez");
        } finally {
            stop(app); // graceful: whatever is in flight is drained and stored
        }
        String url = "jdbc:h2:file:" + dataDir.resolve("h2/async-routes") + ";MODE=PostgreSQL;DATABASE_TO_LOWER=TRUE";
        long paged;
        try (var addresses = Files.list(dataDir.resolve("artemis/paging"))) {
            paged = addresses.count();
        }
        try (java.sql.Connection c = DriverManager.getConnection(url, "sa", "")) {
            return new String[] {stored(c, "er", windows[0]) + "; " + warmUp,
                    stored(c, "ez", windows[1]) + "; addresses of the embedded broker that paged: " + paged};
        } finally {
            // 6-9 GB of journal, pages and H2 after the sustained window: left behind, a few runs fill the
            // disk, and Artemis blocks every producer from 90 % disk usage on (seen: AMQ222212)
            org.springframework.util.FileSystemUtils.deleteRecursively(dataDir);
        }
    }

    private static final int EMBEDDED_SUSTAINED_MINUTES = Integer.getInteger("bench.embeddedMinutes", 6);

    /** One measured window of wrk: accepted rate and p99, the application's CPU per request, its CPU by thread. */
    private record Window(String intake, String cpu, String threads) {
    }

    /** wrk for 15 s. */
    private static Window window(String api, long pid, String threadPrefix) throws Exception {
        long before = processTicks(List.of(pid));
        Map<String, Map.Entry<String, Long>> threadsBefore = threadGroupTicks(pid);
        double[] intake = wrk(api, 15, null, threadPrefix);
        double appCpu = (processTicks(List.of(pid)) - before) * 1000.0 / TICKS_PER_SECOND / (intake[0] * 15);
        return new Window(String.format("%,.0f accepted req/s (p99 %.1f ms)", intake[0], intake[1]),
                String.format("app CPU %.3f ms per accepted request (broker, database and Redis in it)", appCpu),
                "app CPU by thread: " + threadShares(threadsBefore, threadGroupTicks(pid)));
    }

    /** A window's figures with its rows: count, statuses, rows / (last stored − first accepted). */
    private static String stored(java.sql.Connection c, String threadPrefix, Window window) throws java.sql.SQLException {
        try (ResultSet rs = c.createStatement().executeQuery("SELECT count(*), min(received_at), max(stored_at),"
                + " sum(CASE WHEN status = 'processed' THEN 1 ELSE 0 END) FROM ar_message WHERE thread_id LIKE '" + threadPrefix + "-%'")) {
            rs.next();
            long rows = rs.getLong(1);
            double span = (rs.getTimestamp(3).getTime() - rs.getTimestamp(2).getTime()) / 1000.0;
            return String.format("%s; %,d rows, %,d processed, stored at %,.0f msg/s end to end; %s; %s",
                    window.intake(), rows, rs.getLong(4), rows / span, window.cpu(), window.threads());
        }
    }

    /**
     * The REST intake with nothing behind it: {@code services} publishing what it accepts to a durable queue
     * that nobody reads (a fanout exchange, so every thread id lands there) instead of the partition queues.
     * What the intake's own path (Tomcat, validation, the confirmed publish) reaches on this machine.
     */
    private static String intakeAlone(int port, Path logs) throws Exception {
        String sink = PREFIX + ".intake-sink";
        ConnectionFactory factory = new ConnectionFactory();
        factory.setHost("127.0.0.1");
        try (Connection connection = factory.newConnection(); Channel channel = connection.createChannel()) {
            channel.exchangeDeclare(sink, "fanout", true);
            // declared as the application declares its own queues (version 2, lazy): in the default mode a sink
            // that deep paged out in bulk every few seconds and held the confirms meanwhile (p99 45 ms at the
            // burst and 158 ms paced to 5 000 req/s, against 10 and 6 ms lazy; README "RabbitMQ queue mode")
            channel.queueDeclare(sink, true, false, false, Map.of("x-queue-version", 2, "x-queue-mode", "lazy"));
            channel.queueBind(sink, sink, "");
        }
        Process app = startServices(port, logs, "intake", "--app.endpoints.inbound-publish=rabbit-confirmed:" + sink);
        try {
            awaitHealthy(port);
            String api = "http://127.0.0.1:" + port + "/api/messages";
            String warmUp = warmUp(api, API_KEY, "iw", app.pid());
            // the warm-up left some 200 000 messages on the sink: purged, so that the measured window starts
            // as the application's queues do (before the sink was lazy, that depth slowed every publish to it)
            try (Connection connection = factory.newConnection(); Channel channel = connection.createChannel()) {
                channel.queuePurge(sink);
            }
            long[] machineBefore = machineTicks();
            Map<String, Long> before = cpuTicks(app);
            double[] intake = wrk(api, 15, API_KEY, "ir");
            String burst = String.format("%,.0f accepted req/s, p99 %.1f ms; machine %.0f %% busy; CPU ms per accepted request: %s",
                    intake[0], intake[1], machineBusyPercent(machineBefore),
                    cpuPerMessage(before, cpuTicks(app), Math.round(intake[0] * 15)));
            // the p99 of a closed loop at saturation is mostly its own queueing; the target's p99 is at the
            // target's rate: the same 32 connections, paced to 5 000 req/s
            try (Connection connection = factory.newConnection(); Channel channel = connection.createChannel()) {
                channel.queuePurge(sink);
            }
            long delay = pacedDelay(api, 5_000, "ic");
            machineBefore = machineTicks();
            double[] paced = wrk(api, PACED_SECONDS, API_KEY, "ip", delay);
            return String.format("%s; paced to 5 000 req/s for %d s: %,.0f req/s (delay %d ms), accept p99 %.1f ms, machine %.0f %% busy; %s",
                    burst, PACED_SECONDS, paced[0], delay, paced[1], machineBusyPercent(machineBefore), warmUp);
        } finally {
            stop(app);
            try (Connection connection = factory.newConnection(); Channel channel = connection.createChannel()) {
                channel.queueDelete(sink);
                channel.exchangeDelete(sink);
            }
        }
    }

    // ------------------------------------------------------------------ helpers

    /** Linux keeps 15 characters of a thread name: the pool's name first, so the CPU by thread tells Camel's pools apart. */
    private static final String THREAD_NAMES = "--camel.main.thread-name-pattern=#name# #counter#";

    private static Process startServices(int port, Path logs, String name, String... extraArgs) throws Exception {
        List<String> args = new ArrayList<>(List.of("--spring.profiles.active=services", "--server.port=" + port,
                "--server.address=127.0.0.1",
                "--app.security.api-key=" + API_KEY,
                "--spring.datasource.url=jdbc:postgresql://127.0.0.1:5432/test?currentSchema=" + SCHEMA,
                "--spring.flyway.schemas=" + SCHEMA,
                "--app.redis.key-prefix=" + PREFIX + ":",
                "--app.rabbitmq.exchange=" + PREFIX, "--app.rabbitmq.prefix=" + PREFIX,
                "--spring.quartz.scheduler-name=" + PREFIX,
                THREAD_NAMES));
        args.addAll(List.of(extraArgs));
        return start(logs, args, name);
    }

    private static Process start(Path logDir, List<String> args, String name) throws Exception {
        List<String> command = new ArrayList<>(List.of(javaBin(), "-Xms1g", "-Xmx1g"));
        // extra JVM options for the application, e.g. -Dbench.jvmArgs="-XX:StartFlightRecording=filename=/tmp/app.jfr"
        String jvmArgs = System.getProperty("bench.jvmArgs", "").trim();
        if (!jvmArgs.isEmpty()) {
            command.addAll(List.of(jvmArgs.split("\\s+")));
        }
        command.addAll(List.of("-cp", applicationClasspath(), AsyncRoutesApplication.class.getName(), "--logging.level.root=WARN"));
        if (Boolean.getBoolean("bench.testClasspath")) {
            command.add("--management.datadog.metrics.export.enabled=false"); // PerfTest's registry: no API key here
        }
        command.addAll(args);
        // extra application arguments for side-by-side runs, e.g. -Dbench.appArgs="--a.b=1 --c.d=2"
        String extra = System.getProperty("bench.appArgs", "").trim();
        if (!extra.isEmpty()) {
            command.addAll(List.of(extra.split("\\s+")));
        }
        return new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(new File(logDir.toFile(), name + ".log")).start();
    }

    private static void stop(Process app) throws InterruptedException {
        app.destroy(); // SIGTERM: graceful shutdown drains in-flight work
        if (!app.waitFor(90, TimeUnit.SECONDS)) {
            app.destroyForcibly();
        }
    }

    private static void awaitHealthy(int port) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (System.nanoTime() < deadline) {
            try {
                // the overall status: the body also holds each component's, which may be UP while the whole is not
                java.net.http.HttpResponse<String> health = Http.get("http://127.0.0.1:" + port + "/actuator/health");
                if (health.statusCode() == 200 && health.body().startsWith("{\"status\":\"UP\"")) {
                    return;
                }
            } catch (RuntimeException notYet) {
                // not listening yet
            }
            Thread.sleep(500);
        }
        throw new IllegalStateException("the application did not become healthy on port " + port);
    }

    private static boolean hasWrk() {
        return new File("/usr/bin/wrk").canExecute();
    }

    /** wrk with 2 threads and 32 connections posting distinct-thread messages; {accepted req/s, p99 ms}. */
    private static double[] wrk(String url, int seconds, String apiKey, String threadPrefix) throws Exception {
        return wrk(url, seconds, apiKey, threadPrefix, 0);
    }

    /** The same, each connection waiting {@code delayMillis} before each request (0: as fast as it can). */
    private static double[] wrk(String url, int seconds, String apiKey, String threadPrefix, long delayMillis) throws Exception {
        Path script = Files.createTempFile("ar-bench-", ".lua");
        try {
            return runWrk(script, url, seconds, apiKey, threadPrefix, delayMillis);
        } finally {
            Files.deleteIfExists(script);
        }
    }

    private static double[] runWrk(Path script, String url, int seconds, String apiKey, String threadPrefix, long delayMillis)
            throws Exception {
        // setup() numbers wrk's threads: each posts to thread ids of its own (math.random unseeded gave
        // both threads the same numbers, so the two posted to the same 500 thread ids side by side)
        Files.writeString(script, """
                local counter = 0
                local threads = 0
                function setup(thread)
                  threads = threads + 1
                  thread:set("tid", threads .. "-" .. os.time())
                end
                wrk.method = "POST"
                wrk.headers["Content-Type"] = "application/json"
                %s
                %s
                request = function()
                  counter = counter + 1
                  return wrk.format(nil, nil, nil, string.format('{"threadId":"%s-%%s-%%d","content":"hello %%d"}', tid, counter %% 500, counter))
                end
                local seen = {}
                response = function(status, headers, body)
                  if status ~= 202 and not seen[status] then
                    seen[status] = true
                    io.write("status " .. status .. ": " .. body .. "\\n")
                  end
                end
                """.formatted(apiKey == null ? "" : "wrk.headers[\"X-API-Key\"] = \"" + apiKey + "\"",
                delayMillis > 0 ? "delay = function() return " + delayMillis + " end" : "", threadPrefix));
        Process p = new ProcessBuilder("wrk", "-t2", "-c32", "-d" + seconds + "s", "--latency", "-s", script.toString(), url)
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        p.waitFor(seconds + 30L, TimeUnit.SECONDS);
        Matcher errors = Pattern.compile("Non-2xx or 3xx responses: (\\d+)").matcher(out);
        if (errors.find()) {
            System.out.printf("wrk %s: %s responses were not 202; the first of each status:%n", threadPrefix, errors.group(1));
            out.lines().filter(line -> line.startsWith("status ")).forEach(line -> System.out.println("  " + line));
        }
        Matcher rate = Pattern.compile("Requests/sec:\\s+([\\d.]+)").matcher(out);
        Matcher p99 = Pattern.compile("99%\\s+([\\d.]+)(us|ms|s)").matcher(out);
        if (!rate.find() || !p99.find()) {
            throw new IllegalStateException("unexpected wrk output:\n" + out);
        }
        double latency = Double.parseDouble(p99.group(1));
        latency = switch (p99.group(2)) {
            case "us" -> latency / 1000;
            case "s" -> latency * 1000;
            default -> latency;
        };
        return new double[] {Double.parseDouble(rate.group(1)), latency};
    }

    /** Whether cleanup-expired has fired since then (its trigger in the Quartz job store the services profile keeps in the database). */
    private static boolean cleanupTickedSince(long epochMillis) throws Exception {
        return count("SELECT count(*) FROM qrtz_triggers WHERE trigger_name = 'cleanup-expired' AND prev_fire_time >= " + epochMillis) > 0;
    }

    /**
     * Offers this rate for {@value #PACED_SECONDS} s with wrk, each connection waiting between requests (a Lua
     * {@code delay()}): a native client, not client threads in this JVM on the same 2 cores; 30 s so that one
     * stall does not make the p99. Returns the rate reached, CPU and accept → stored p50/p99 of those rows.
     */
    private static String pacedLatency(Process app, String api, double rate, String threadPrefix) throws Exception {
        long delay = pacedDelay(api, rate, threadPrefix + "c");
        awaitSettled(threadPrefix + "c");
        long[] machineBefore = machineTicks();
        Map<String, Long> before = cpuTicks(app);
        double[] paced = wrk(api, PACED_SECONDS, API_KEY, threadPrefix, delay);
        String cpu = String.format("machine %.0f %% busy; CPU ms per request: %s", machineBusyPercent(machineBefore),
                cpuPerMessage(before, cpuTicks(app), Math.round(paced[0] * PACED_SECONDS)));
        awaitSettled(threadPrefix);
        return String.format("target %,.0f req/s; paced by wrk for %d s: %,.0f req/s (delay %d ms, accept p99 %.1f ms; %s): %s;"
                        + " of which accept -> handled %s, handled -> stored %s", rate, PACED_SECONDS, paced[0], delay, paced[1], cpu,
                latency(threadPrefix, "stored_at - received_at"), latency(threadPrefix, "processed_at - received_at"),
                latency(threadPrefix, "stored_at - processed_at"));
    }

    /**
     * The delay before each request that makes wrk's 32 connections offer about this rate: wrk waits the
     * delay after each response, and its timers add a little, so a 5 s probe measures what a request cycle
     * really takes at the first guess and the delay is shortened by the difference.
     */
    private static long pacedDelay(String api, double rate, String threadPrefix) throws Exception {
        long delay = Math.round(32_000 / rate);
        double[] probe = wrk(api, 5, API_KEY, threadPrefix, delay);
        return Math.max(1, delay - Math.round(32_000 / probe[0] - delay));
    }

    /** p50 and p99 of an interval between two of the paced rows' timestamps. */
    private static String latency(String threadPrefix, String interval) throws Exception {
        String percentile = "SELECT percentile_cont(%s) WITHIN GROUP (ORDER BY EXTRACT(EPOCH FROM " + interval
                + ")) FROM ar_message WHERE thread_id LIKE '" + threadPrefix + "-%%'";
        return String.format("p50 %.1f ms, p99 %.1f ms", seconds(String.format(percentile, "0.5")) * 1000,
                seconds(String.format(percentile, "0.99")) * 1000);
    }

    /** Waits until the rows of these threads stop growing (no change over a second), at most 2 minutes. */
    private static void awaitSettled(String threadPrefix) throws Exception {
        String sql = "SELECT count(*) FROM ar_message WHERE thread_id LIKE '" + threadPrefix + "%'";
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(2);
        long last = -1;
        long now = count(sql);
        while (now != last && System.nanoTime() < deadline) {
            Thread.sleep(1_000);
            last = now;
            now = count(sql);
        }
    }

    private static long count(String sql) throws Exception {
        return (long) seconds(sql);
    }

    private static double seconds(String sql) throws Exception {
        try (java.sql.Connection c = DriverManager.getConnection("jdbc:postgresql://127.0.0.1:5432/test?currentSchema=" + SCHEMA,
                "postgres", ""); ResultSet rs = c.createStatement().executeQuery(sql)) {
            rs.next();
            return rs.getDouble(1);
        }
    }

    private static Map<String, Long> statuses(String like) throws Exception {
        Map<String, Long> statuses = new TreeMap<>();
        try (java.sql.Connection c = DriverManager.getConnection("jdbc:postgresql://127.0.0.1:5432/test?currentSchema=" + SCHEMA,
                "postgres", ""); ResultSet rs = c.createStatement().executeQuery(
                "SELECT status, count(*) FROM ar_message WHERE thread_id LIKE '" + like + "' GROUP BY status")) {
            while (rs.next()) {
                statuses.put(rs.getString(1), rs.getLong(2));
            }
        }
        return statuses;
    }

    private static String javaBin() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    /**
     * The application's own runtime classpath: {@code target/classes} and the runtime dependencies the
     * bench profile lists in {@code target/runtime-classpath.txt}. Not the test classpath, which holds
     * PerfTest and its Micrometer registries.
     */
    private static String applicationClasspath() throws java.io.IOException {
        if (Boolean.getBoolean("bench.testClasspath")) {
            return classpath(); // how it ran until 2026-12-03: for side-by-side runs only
        }
        Path listed = Path.of("target", "runtime-classpath.txt");
        if (!Files.exists(listed)) {
            throw new IllegalStateException(listed + " is missing: run the benchmarks with -Pbench");
        }
        return Path.of("target", "classes").toAbsolutePath() + File.pathSeparator + Files.readString(listed).trim();
    }

    /** The test classpath, for PerfTest. */
    private static String classpath() {
        return java.util.Arrays.stream(System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"))
                        .split(File.pathSeparator))
                .filter(entry -> !entry.isBlank())
                .map(entry -> Path.of(entry).toAbsolutePath().normalize().toString())
                .distinct()
                .collect(java.util.stream.Collectors.joining(File.pathSeparator));
    }
}
