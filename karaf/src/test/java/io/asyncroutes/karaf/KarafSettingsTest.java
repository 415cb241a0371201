package io.asyncroutes.karaf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.asyncroutes.settings.AppSettings;
import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.Yaml;

/** The Karaf settings: the shipped cfg holds the keys and defaults of config/application.yaml, and binds. */
class KarafSettingsTest {

    /** Keys whose Karaf value differs on purpose (documented in the cfg and the README). */
    private static final Set<String> KARAF_SPECIFIC = Set.of("app.data-dir", "app.jms.enabled", "app.redis.embedded");
    /** Settings of features the Karaf bundle does not run (README "Running in Apache Karaf"): not in its cfg. */
    private static final Set<String> NOT_IN_KARAF = Set.of("app.partitions.");

    @Test
    void theShippedCfgHasEveryAppKeyOfApplicationYamlWithItsDefault() throws IOException {
        Map<String, String> yaml = new TreeMap<>();
        try (Reader reader = Files.newBufferedReader(Path.of("../config/application.yaml"))) {
            Map<String, Object> root = new Yaml().load(reader);
            flatten("app", root.get("app"), yaml);
        }
        Properties cfg = shippedCfg();
        for (Map.Entry<String, String> entry : yaml.entrySet()) {
            String key = entry.getKey();
            if (NOT_IN_KARAF.stream().anyMatch(key::startsWith)) {
                assertTrue(!cfg.containsKey(key), "a setting the bundle does not use is in io.asyncroutes.cfg: " + key);
                continue;
            }
            assertTrue(cfg.containsKey(key), "missing in io.asyncroutes.cfg: " + key);
            if (KARAF_SPECIFIC.contains(key) || key.startsWith("app.endpoints.")) {
                continue;
            }
            // ${ENV:default} in application.yaml: the cfg carries the default
            String expected = entry.getValue().replaceAll("^\\$\\{[A-Z_]+:(.*)}$", "$1").replace("[]", "");
            assertEquals(expected, cfg.getProperty(key).trim(), key);
        }
        for (String key : cfg.stringPropertyNames()) {
            assertTrue(!key.startsWith("app.") || yaml.containsKey(key), "not in application.yaml: " + key);
        }
    }

    @Test
    void theShippedCfgBindsToTheDefaultSettings() throws IOException {
        Map<String, Object> config = new HashMap<>();
        shippedCfg().forEach((k, v) -> config.put((String) k, v));
        KarafSettings settings = KarafSettings.from(config);
        assertEquals(List.of(), settings.unknownKeys());
        AppSettings bound = settings.app();
        AppSettings defaults = new AppSettings();
        assertEquals(defaults.getRetention(), bound.getRetention());
        assertEquals(defaults.getIdempotency().getWindow(), bound.getIdempotency().getWindow());
        assertEquals(defaults.getLimits().getMaxBodyBytes(), bound.getLimits().getMaxBodyBytes());
        assertEquals(defaults.getFetch().getAllowedHosts(), bound.getFetch().getAllowedHosts());
        assertEquals(defaults.getRetry().getJitter(), bound.getRetry().getJitter());
        assertEquals(defaults.getPersistence().getRetryInitialDelay(), bound.getPersistence().getRetryInitialDelay());
        assertEquals(defaults.getOrdering().getMaxPending(), bound.getOrdering().getMaxPending());
        assertEquals(defaults.getCleanup().getClusterCheckinInterval(), bound.getCleanup().getClusterCheckinInterval());
        assertFalse(bound.getRedis().isEmbedded());
        assertFalse(bound.getLlm().isConfigured());
        // app.* reach the routes' placeholders
        assertTrue(settings.camelProperties().getProperty("app.endpoints.inbound").startsWith("vm:ar.in"));
        assertEquals(Duration.ofSeconds(5), settings.duration("redis.timeout"));
    }

    @Test
    void valuesBindTheWaySpringBootWritesThem() {
        KarafSettings settings = KarafSettings.from(Map.of(
                "app.ordering.gap-timeout", "750ms",
                "app.redis.history-ttl", "3d",
                "app.fetch.allowed-hosts", "a.example, b.example",
                "app.idempotency.window", "PT2H",
                "app.typo.key", "x",
                "unrelated", "ignored"));
        assertEquals(Duration.ofMillis(750), settings.app().getOrdering().getGapTimeout());
        assertEquals(Duration.ofDays(3), settings.app().getRedis().getHistoryTtl());
        assertEquals(List.of("a.example", "b.example"), settings.app().getFetch().getAllowedHosts());
        assertEquals(Duration.ofHours(2), settings.app().getIdempotency().getWindow());
        assertEquals(List.of("app.typo.key"), settings.unknownKeys());
    }

    @Test
    void aValueThatDoesNotParseNamesItsKey() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> KarafSettings.from(Map.of("app.limits.max-content-bytes", "lots")));
        assertTrue(e.getMessage().contains("app.limits.max-content-bytes"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> KarafSettings.from(Map.of("app.retention", "7 weeks")));
        assertTrue(e.getMessage().contains("app.retention"), e.getMessage());
    }

    private static Properties shippedCfg() throws IOException {
        Properties cfg = new Properties();
        try (Reader reader = Files.newBufferedReader(Path.of("src/main/feature/io.asyncroutes.cfg"))) {
            cfg.load(reader);
        }
        return cfg;
    }

    @SuppressWarnings("unchecked")
    private static void flatten(String prefix, Object value, Map<String, String> out) {
        if (value instanceof Map<?, ?> map) {
            map.forEach((k, v) -> flatten(prefix + "." + k, v, out));
        } else if (value instanceof List<?> list) {
            out.put(prefix, String.join(",", (List<String>) list));
        } else {
            out.put(prefix, String.valueOf(value));
        }
    }
}
