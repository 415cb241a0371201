package io.asyncroutes.state;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.asyncroutes.config.StateConfiguration;
import io.asyncroutes.settings.AppSettings;
import io.asyncroutes.support.Json;
import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Arrays;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.autoconfigure.ImportAutoConfiguration;
import org.springframework.boot.autoconfigure.data.redis.RedisAutoConfiguration;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.context.properties.bind.Bindable;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.Import;
import org.springframework.core.env.Environment;
import org.springframework.data.redis.core.Cursor;
import org.springframework.data.redis.core.ScanOptions;
import org.springframework.data.redis.core.StringRedisTemplate;

/**
 * The seed's {@code get_redis} context manager, as a Spring-owned resource, on this machine's real
 * Redis: the application's Redis wiring (Spring Boot's Lettuce factory + {@link StateConfiguration})
 * in a small context that is started and stopped repeatedly. Each start connects, each stop closes:
 * {@code CLIENT LIST}, read over a separate connection, shows no connection of ours left behind.
 * Keys, TTLs and JSON values are read back with {@code redis-cli}, as any other language would.
 */
class RedisLifecycleTest {

    private static final String KEY_PREFIX = "ar-life-" + Long.toHexString(System.nanoTime()) + ":";
    private static final String CLIENT_NAME = "ar-life-" + UUID.randomUUID().toString().substring(0, 8);

    private static RedisClient observer;
    private static StatefulRedisConnection<String, String> observerConnection;

    @BeforeAll
    static void observe() {
        observer = RedisClient.create("redis://127.0.0.1:6379");
        observerConnection = observer.connect();
    }

    @AfterAll
    static void cleanUp() {
        try (ConfigurableApplicationContext context = start()) {
            StringRedisTemplate redis = context.getBean(StringRedisTemplate.class);
            try (Cursor<String> keys = redis.scan(ScanOptions.scanOptions().match(KEY_PREFIX + "*").build())) {
                keys.forEachRemaining(redis::delete);
            }
        }
        observerConnection.close();
        observer.shutdown();
    }

    @Test
    void repeatedStartAndStopLeavesNoConnectionBehind() {
        assertThat(ourConnections()).isZero();
        for (int round = 1; round <= 5; round++) {
            try (ConfigurableApplicationContext context = start()) {
                ThreadHistory history = context.getBean(ThreadHistory.class);
                history.append("life", "turn-" + round, (long) round, ThreadHistory.ROLE_USER, "round " + round, Instant.now());
                assertThat(history.recent("life", 10)).hasSize(round);
                assertThat(ourConnections()).as("connected while running, round " + round).isPositive();
            }
            assertThat(ourConnections()).as("closed after stop, round " + round).isZero();
        }
    }

    @Test
    void historyIsPlainJsonWithTtlReadableByRedisCli() throws Exception {
        try (ConfigurableApplicationContext context = start()) {
            ThreadHistory history = context.getBean(ThreadHistory.class);
            history.append("cli", "c-1", 1L, ThreadHistory.ROLE_USER, "héllo \"quoted\"", Instant.parse("2026-01-02T03:04:05Z"));
        }
        String key = KEY_PREFIX + "history:cli";
        String type = redisCli("TYPE", key);
        assumeThat(type).as("redis-cli available").isNotNull();
        assertThat(type).isEqualTo("list");
        long ttl = Long.parseLong(redisCli("TTL", key));
        assertThat(ttl).isBetween(7L * 24 * 3600 - 60, 7L * 24 * 3600);
        JsonNode turn = Json.MAPPER.readTree(redisCli("LINDEX", key, "0"));
        assertThat(turn.path("id").asText()).isEqualTo("c-1");
        assertThat(turn.path("seq").asLong()).isEqualTo(1);
        assertThat(turn.path("role").asText()).isEqualTo("user");
        assertThat(turn.path("content").asText()).isEqualTo("héllo \"quoted\"");
        assertThat(turn.path("at").asText()).isEqualTo("2026-01-02T03:04:05Z");
    }

    private static long ourConnections() {
        return Arrays.stream(observerConnection.sync().clientList().split("\n"))
                .filter(line -> line.contains(" name=" + CLIENT_NAME + " ")).count();
    }

    /** Output of redis-cli (raw mode), or null when redis-cli is not installed. */
    private static String redisCli(String... args) throws InterruptedException {
        String[] full = new String[args.length + 6];
        System.arraycopy(new String[] {"redis-cli", "--raw", "-h", "127.0.0.1", "-p", "6379"}, 0, full, 0, 6);
        System.arraycopy(args, 0, full, 6, args.length);
        try {
            Process process = new ProcessBuilder(full).redirectErrorStream(true).start();
            String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
            return process.waitFor() == 0 ? out : null;
        } catch (IOException notInstalled) {
            return null;
        }
    }

    private static ConfigurableApplicationContext start() {
        return new SpringApplicationBuilder(RedisOnly.class).web(WebApplicationType.NONE)
                .run("--spring.data.redis.host=127.0.0.1", "--spring.data.redis.port=6379",
                        "--spring.data.redis.client-name=" + CLIENT_NAME,
                        "--app.redis.key-prefix=" + KEY_PREFIX,
                        "--spring.main.banner-mode=off");
    }

    /** Spring Boot's Redis auto-configuration and the application's state beans, nothing else. */
    @Configuration(proxyBeanMethods = false)
    @ImportAutoConfiguration(RedisAutoConfiguration.class)
    @Import(StateConfiguration.class)
    static class RedisOnly {
        @Bean
        AppSettings appSettings(Environment env) {
            // bound by hand: the configuration processor allows one @ConfigurationProperties("app") per module
            return Binder.get(env).bind("app", Bindable.ofInstance(new AppSettings())).orElseGet(AppSettings::new);
        }
    }
}
