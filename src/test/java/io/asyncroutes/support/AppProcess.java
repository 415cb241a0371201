package io.asyncroutes.support;

import static org.awaitility.Awaitility.await;

import io.asyncroutes.AsyncRoutesApplication;
import java.io.File;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The application as a process of its own (its own JVM on the test's real classpath): what a kill
 * -9 can really kill. Used by {@code KillNineTest} and {@code ScaleOutServicesTest}.
 */
public final class AppProcess {

    private AppProcess() {
    }

    /** Starts the application with {@code args}; its output goes to {@code log}. */
    public static Process start(List<String> args, File log) throws java.io.IOException {
        String javaBin = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> command = new ArrayList<>(List.of(javaBin, "-Xmx512m", "-cp", classpath(),
                AsyncRoutesApplication.class.getName()));
        command.addAll(args);
        ProcessBuilder builder = new ProcessBuilder(command);
        builder.redirectErrorStream(true);
        builder.redirectOutput(log);
        return builder.start();
    }

    /**
     * Surefire's own launcher jar hides the real classpath behind a manifest: the real one, each
     * entry once (a root listed twice would make Camel load the YAML routes twice).
     */
    static String classpath() {
        return java.util.Arrays.stream(System.getProperty("surefire.test.class.path",
                        System.getProperty("java.class.path")).split(File.pathSeparator))
                .filter(entry -> !entry.isBlank())
                .map(entry -> Path.of(entry).toAbsolutePath().normalize().toString())
                .distinct()
                .collect(java.util.stream.Collectors.joining(File.pathSeparator));
    }

    /** Waits for the overall status (200), not a component's "UP" somewhere in the details. */
    public static void awaitHealthy(int httpPort) {
        await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(500)).ignoreExceptions().until(() -> {
            var health = Http.get("http://127.0.0.1:" + httpPort + "/actuator/health");
            return health.statusCode() == 200 && health.body().startsWith("{\"status\":\"UP\"");
        });
    }
}
