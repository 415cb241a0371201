package io.asyncroutes.intake;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.asyncroutes.support.EmbeddedProfileTest;
import io.asyncroutes.support.Headers;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.UUID;
import org.apache.camel.ConsumerTemplate;
import org.apache.camel.Exchange;
import org.apache.camel.ProducerTemplate;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.JdbcTemplate;

/**
 * Issue #14: 1 000 seeded queue messages, usable and unusable mixed (malformed JSON, missing fields,
 * hostile thread ids, bytes that are not UTF-8), on the embedded default. Each ends in exactly one
 * place: a usable one processed and stored, an unusable one in the dead-letter queue with its
 * reason; none lost, and the consumers still flow afterwards.
 */
class QueueSoakTest extends EmbeddedProfileTest {

    private static final int MESSAGES = 1_000;

    @Autowired
    ProducerTemplate producer;
    @Autowired
    ConsumerTemplate consumer;
    @Autowired
    JdbcTemplate jdbc;

    @Test
    void everyMessageIsStoredOrDeadLetteredWithItsReasonAndTheQueueKeepsFlowing() {
        String run = "qs-" + UUID.randomUUID().toString().substring(0, 8);
        Random random = new Random(1125);
        Map<Integer, String> expectedReason = new HashMap<>(); // index -> error code it must be dead-lettered with
        Set<Integer> mustBeStored = new HashSet<>();
        for (int i = 0; i < MESSAGES; i++) {
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
                case 6 -> expectedReason.put(i, "invalid_json");
                case 7, 8 -> expectedReason.put(i, "invalid_message");
                case 9 -> expectedReason.put(i, "invalid_json"); // not UTF-8: refused as on the REST intake
                default -> mustBeStored.add(i);
            }
            producer.sendBodyAndHeaders("jms:queue:ar.in", body,
                    Map.of("soakRun", run, "soakIndex", i, Headers.JMS_GROUP, thread));
        }

        Map<Integer, String> deadLetters = new HashMap<>();
        await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(200)).until(() -> {
            Exchange dead;
            while ((dead = consumer.receive("jms:queue:ar.dead-letter?selector=soakRun='" + run + "'", 100)) != null) {
                deadLetters.put(dead.getMessage().getHeader("soakIndex", Integer.class),
                        dead.getMessage().getHeader(Headers.DEAD_LETTER_REASON, String.class));
            }
            return stored(run).size() + deadLetters.size() >= MESSAGES;
        });

        List<String> stored = stored(run);
        System.out.printf("queue soak: %d stored, %d dead-lettered%n", stored.size(), deadLetters.size());
        assertThat(stored.size() + deadLetters.size()).as("each message in exactly one place").isEqualTo(MESSAGES);
        for (int i = 0; i < MESSAGES; i++) {
            boolean isStored = stored.contains(run + "-" + i);
            assertThat(isStored ^ deadLetters.containsKey(i)).as("message %d stored xor dead-lettered", i).isTrue();
            assertThat(isStored).as("message %d stored", i).isEqualTo(mustBeStored.contains(i));
            if (expectedReason.containsKey(i)) {
                assertThat(deadLetters.get(i)).as("reason of message %d", i).startsWith(expectedReason.get(i));
            }
        }
        assertThat(jdbc.queryForList("SELECT DISTINCT status FROM ar_message WHERE id LIKE ?", String.class, run + "-%"))
                .containsExactly("processed");

        // still flowing
        String after = run + "-after";
        producer.sendBodyAndHeader("jms:queue:ar.in", "{\"id\":\"" + after + "\",\"threadId\":\"" + run + "-t0\",\"content\":\"after\"}",
                Headers.JMS_GROUP, run + "-t0");
        await().atMost(Duration.ofSeconds(10)).until(() -> stored(run).contains(after));
    }

    private List<String> stored(String run) {
        return jdbc.queryForList("SELECT id FROM ar_message WHERE id LIKE ?", String.class, run + "-%");
    }

    /** A message whose content holds bytes that are not UTF-8: sent as a JMS BytesMessage. */
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
