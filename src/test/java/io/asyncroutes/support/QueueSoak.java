package io.asyncroutes.support;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.UUID;
import java.util.function.BiConsumer;
import org.springframework.jdbc.core.JdbcTemplate;

/**
 * Issue #14's queue soak, shared by the embedded default and {@code services}: seeded queue
 * messages, usable and unusable mixed (malformed JSON, missing fields, hostile thread ids, bytes
 * that are not UTF-8). Each must end in exactly one place: a usable one stored {@code processed},
 * an unusable one in the dead-letter queue with its reason; none lost, and the queue still flows.
 */
public final class QueueSoak {

    /** Sends one message: body (String or byte[]), thread id (routing key / message group), headers to carry. */
    public interface Sender {
        void send(Object body, String threadId, Map<String, Object> headers);
    }

    /** Collects the dead letters of a run seen so far into {index → reason}. */
    public interface DeadLetters {
        void drain(String run, BiConsumer<Integer, String> collect);
    }

    private QueueSoak() {
    }

    public static void run(int messages, Sender sender, DeadLetters deadLetterQueue, JdbcTemplate jdbc) {
        String run = "qs-" + UUID.randomUUID().toString().substring(0, 8);
        Random random = new Random(1125);
        Map<Integer, String> expectedReason = new HashMap<>();
        Set<Integer> usable = new HashSet<>();
        for (int i = 0; i < messages; i++) {
            String id = run + "-" + i;
            String thread = run + "-t" + (i % 37);
            Object body = switch (i % 10) {
                case 6 -> "{\"id\":\"" + id + "\",\"threadId\":" + "[".repeat(1 + random.nextInt(20));
                case 7 -> "{\"id\":\"" + id + "\",\"threadId\":\"" + thread + "\"}";
                case 8 -> "{\"id\":\"" + id + "\",\"threadId\":\"../" + random.nextInt(1000) + "\",\"content\":\"c\"}";
                case 9 -> notUtf8(id, thread, random);
                default -> "{\"id\":\"" + id + "\",\"threadId\":\"" + thread + "\",\"content\":\"m" + i + "\"}";
            };
            switch (i % 10) {
                case 6, 9 -> expectedReason.put(i, "invalid_json"); // 9: not UTF-8, refused as on the REST intake
                case 7, 8 -> expectedReason.put(i, "invalid_message");
                default -> usable.add(i);
            }
            sender.send(body, thread, Map.of("soakRun", run, "soakIndex", i));
        }

        Map<Integer, String> deadLetters = new HashMap<>();
        await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(200)).until(() -> {
            deadLetterQueue.drain(run, deadLetters::put);
            return stored(jdbc, run).size() + deadLetters.size() >= messages;
        });

        List<String> stored = stored(jdbc, run);
        System.out.printf("queue soak: %d stored, %d dead-lettered%n", stored.size(), deadLetters.size());
        assertThat(stored.size() + deadLetters.size()).as("each message in exactly one place").isEqualTo(messages);
        for (int i = 0; i < messages; i++) {
            boolean isStored = stored.contains(run + "-" + i);
            assertThat(isStored ^ deadLetters.containsKey(i)).as("message %d stored xor dead-lettered", i).isTrue();
            assertThat(isStored).as("message %d stored", i).isEqualTo(usable.contains(i));
            if (expectedReason.containsKey(i)) {
                assertThat(deadLetters.get(i)).as("reason of message %d", i).startsWith(expectedReason.get(i));
            }
        }
        assertThat(jdbc.queryForList("SELECT DISTINCT status FROM ar_message WHERE id LIKE ?", String.class, run + "-%"))
                .containsExactly("processed");

        String after = run + "-after";
        sender.send("{\"id\":\"" + after + "\",\"threadId\":\"" + run + "-t0\",\"content\":\"after\"}", run + "-t0", Map.of());
        await().alias("the queue still flows").atMost(Duration.ofSeconds(15)).until(() -> stored(jdbc, run).contains(after));
    }

    private static List<String> stored(JdbcTemplate jdbc, String run) {
        return jdbc.queryForList("SELECT id FROM ar_message WHERE id LIKE ?", String.class, run + "-%");
    }

    /** A message whose content holds bytes that are not UTF-8. */
    private static byte[] notUtf8(String id, String thread, Random random) {
        byte[] head = ("{\"id\":\"" + id + "\",\"threadId\":\"" + thread + "\",\"content\":\"").getBytes(StandardCharsets.UTF_8);
        byte[] bad = {(byte) (0x80 + random.nextInt(0x40)), (byte) 0xff, (byte) 0xfe};
        byte[] tail = "\"}".getBytes(StandardCharsets.UTF_8);
        byte[] all = new byte[head.length + bad.length + tail.length];
        System.arraycopy(head, 0, all, 0, head.length);
        System.arraycopy(bad, 0, all, head.length, bad.length);
        System.arraycopy(tail, 0, all, head.length + bad.length, tail.length);
        return all;
    }
}
