package io.asyncroutes.karaf;

import io.asyncroutes.settings.AppSettings;
import java.lang.reflect.Method;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The settings of the Karaf deployment, read from the configuration admin PID {@code io.asyncroutes}
 * ({@code etc/io.asyncroutes.cfg}). The {@code app.*} keys are those of {@code config/application.yaml}
 * and bind onto {@link AppSettings} the way Spring Boot's relaxed binding does (kebab-case names,
 * durations such as {@code 500ms}, {@code 30s}, {@code 7d}, comma-separated lists); every {@code app.*}
 * key also becomes a Camel property, so the routes' {@code {{app.endpoints.inbound}}} placeholders
 * resolve. The other keys are the Karaf side's own: the HTTP listener and the Redis connection.
 */
public final class KarafSettings {

    /** Karaf's defaults where the Spring Boot ones name something Karaf does not have (see the cfg file). */
    static final Map<String, String> KARAF_DEFAULTS = new LinkedHashMap<>();

    static {
        // queues: in memory; vm: queues are shared by all bundles of the Karaf JVM, so another bundle
        // can feed the intake
        KARAF_DEFAULTS.put("app.endpoints.inbound", "vm:ar.in?concurrentConsumers=8");
        KARAF_DEFAULTS.put("app.endpoints.inbound-publish", "vm:ar.in?blockWhenFull=true");
        KARAF_DEFAULTS.put("app.endpoints.persist", "seda:ar.persist?concurrentConsumers=4");
        KARAF_DEFAULTS.put("app.endpoints.persist-publish", "seda:ar.persist?blockWhenFull=true");
        // results and dead letters: direct-vm, not vm. A seda/vm producer hands the exchange's
        // completions (the idempotency key's, among others) over to its queued copy, so they would run
        // only when some consumer takes the copy; direct-vm runs a consumer of another bundle in the
        // caller's thread and, with none, drops the message at once
        KARAF_DEFAULTS.put("app.endpoints.results", "direct-vm:ar.results?block=false&failIfNoConsumers=false");
        KARAF_DEFAULTS.put("app.endpoints.dead-letter", "direct-vm:ar.dead-letter?block=false&failIfNoConsumers=false");
        KARAF_DEFAULTS.put("app.cleanup.cron", "0 * * * * ?");
        KARAF_DEFAULTS.put("app.results.ttl-millis", "86400000");
        KARAF_DEFAULTS.put("http.host", "127.0.0.1");
        KARAF_DEFAULTS.put("http.port", "8080");
        KARAF_DEFAULTS.put("redis.host", "127.0.0.1");
        KARAF_DEFAULTS.put("redis.port", "6379");
        KARAF_DEFAULTS.put("redis.password", "");
        KARAF_DEFAULTS.put("redis.database", "0");
        KARAF_DEFAULTS.put("redis.timeout", "5s");
    }

    /** {@code app.*} keys that are Camel properties only (placeholders in endpoint URIs), or that Karaf ignores. */
    private static final Set<String> NOT_BOUND = Set.of("app.endpoints", "app.results", "app.data-dir", "app.jms");

    private static final Pattern SIMPLE_DURATION = Pattern.compile("^([+-]?\\d+)([a-zA-Z]{0,2})$");

    private final AppSettings app = new AppSettings();
    private final Map<String, String> values = new TreeMap<>();
    private final List<String> unknownKeys = new ArrayList<>();

    private KarafSettings() {
    }

    /** Binds the configuration dictionary; a value that does not fit its setting fails with the key named. */
    public static KarafSettings from(Map<String, ?> config) {
        KarafSettings settings = new KarafSettings();
        settings.values.putAll(KARAF_DEFAULTS);
        config.forEach((key, value) -> {
            if (value != null && (key.startsWith("app.") || KARAF_DEFAULTS.containsKey(key))) {
                settings.values.put(key, value instanceof String[] array ? String.join(",", array) : value.toString().trim());
            }
        });
        settings.values.forEach(settings::bind);
        return settings;
    }

    public AppSettings app() {
        return app;
    }

    /** The {@code app.*} keys that match no setting (typos, or keys of a newer version). */
    public List<String> unknownKeys() {
        return unknownKeys;
    }

    /** Every {@code app.*} value, as the Camel properties the routes' placeholders read. */
    public Properties camelProperties() {
        Properties properties = new Properties();
        values.forEach((key, value) -> {
            if (key.startsWith("app.")) {
                properties.setProperty(key, value);
            }
        });
        return properties;
    }

    public String string(String key) {
        return values.getOrDefault(key, "");
    }

    public int integer(String key) {
        try {
            return Integer.parseInt(string(key));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(key + ": not an integer: '" + string(key) + "'");
        }
    }

    public Duration duration(String key) {
        return parseDuration(key, string(key));
    }

    private void bind(String key, String value) {
        if (!key.startsWith("app.") || NOT_BOUND.stream().anyMatch(prefix -> key.equals(prefix) || key.startsWith(prefix + "."))) {
            return;
        }
        String[] path = key.substring("app.".length()).split("\\.");
        Object target = app;
        try {
            for (int i = 0; i < path.length - 1; i++) {
                Method getter = target.getClass().getMethod("get" + camel(path[i]));
                target = getter.invoke(target);
            }
            String property = camel(path[path.length - 1]);
            Method setter = Arrays.stream(target.getClass().getMethods())
                    .filter(m -> m.getName().equals("set" + property) && m.getParameterCount() == 1)
                    .findFirst().orElseThrow(NoSuchMethodException::new);
            setter.invoke(target, convert(key, value, setter.getParameterTypes()[0]));
        } catch (NoSuchMethodException e) {
            unknownKeys.add(key);
        } catch (ReflectiveOperationException e) {
            throw new IllegalArgumentException(key + ": cannot be set to '" + value + "': " + e, e);
        }
    }

    private static Object convert(String key, String value, Class<?> type) {
        try {
            if (type == String.class) {
                return value;
            } else if (type == int.class || type == Integer.class) {
                return Integer.parseInt(value);
            } else if (type == long.class || type == Long.class) {
                return Long.parseLong(value);
            } else if (type == double.class || type == Double.class) {
                return Double.parseDouble(value);
            } else if (type == boolean.class || type == Boolean.class) {
                if (!value.equalsIgnoreCase("true") && !value.equalsIgnoreCase("false")) {
                    throw new IllegalArgumentException("not true or false");
                }
                return Boolean.parseBoolean(value);
            } else if (type == Duration.class) {
                return parseDuration(key, value);
            } else if (type == List.class) {
                // "[]" is how application.yaml writes an empty list
                String list = value.equals("[]") ? "" : value;
                return new ArrayList<>(Arrays.stream(list.split(",")).map(String::trim).filter(s -> !s.isEmpty()).toList());
            }
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(key + ": '" + value + "' is not a valid " + type.getSimpleName()
                    + (e.getMessage() != null ? " (" + e.getMessage() + ")" : ""), e);
        }
        throw new IllegalArgumentException(key + ": settings of type " + type.getName() + " are not supported here");
    }

    /** Spring Boot's simple duration format ({@code 500ms}, {@code 30s}, {@code 5m}, {@code 24h}, {@code 7d}; bare numbers are ms) or ISO-8601. */
    static Duration parseDuration(String key, String value) {
        Matcher simple = SIMPLE_DURATION.matcher(value.trim());
        if (simple.matches()) {
            long amount = Long.parseLong(simple.group(1));
            return switch (simple.group(2).toLowerCase(Locale.ROOT)) {
                case "", "ms" -> Duration.ofMillis(amount);
                case "ns" -> Duration.ofNanos(amount);
                case "us" -> Duration.ofNanos(amount * 1000);
                case "s" -> Duration.ofSeconds(amount);
                case "m" -> Duration.ofMinutes(amount);
                case "h" -> Duration.ofHours(amount);
                case "d" -> Duration.ofDays(amount);
                default -> throw new IllegalArgumentException(key + ": unknown duration unit in '" + value + "'");
            };
        }
        try {
            return Duration.parse(value.trim());
        } catch (java.time.format.DateTimeParseException e) {
            throw new IllegalArgumentException(key + ": '" + value + "' is not a duration (e.g. 500ms, 30s, 7d, PT1H)", e);
        }
    }

    /** {@code max-content-bytes} → {@code MaxContentBytes}. */
    private static String camel(String kebab) {
        StringBuilder out = new StringBuilder(kebab.length());
        boolean upper = true;
        for (char c : kebab.toCharArray()) {
            if (c == '-' || c == '_') {
                upper = true;
            } else {
                out.append(upper ? Character.toUpperCase(c) : c);
                upper = false;
            }
        }
        return out.toString();
    }
}
