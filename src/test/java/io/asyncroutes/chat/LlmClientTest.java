package io.asyncroutes.chat;

import static org.assertj.core.api.Assertions.assertThat;

import io.asyncroutes.settings.AppSettings;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@link LlmClient} on its own, against {@link LocalOpenAiServer}: no Spring, no Camel.
 */
class LlmClientTest {

    private static LocalOpenAiServer llm;

    @BeforeAll
    static void start() throws Exception {
        llm = new LocalOpenAiServer();
    }

    @AfterAll
    static void stop() throws Exception {
        llm.close();
    }

    /**
     * An upstream that answers at once, many callers: langchain4j's client ran the whole stream on
     * the caller's thread whenever the answer beat its own callback registration (2 of 400 here),
     * so {@code start} returned only at the end and POST /api/chat relayed nothing until then.
     */
    @Test
    void startNeverConsumesTheStreamOnTheCallersThread() throws Exception {
        AppSettings.Llm settings = new AppSettings.Llm();
        settings.setBaseUrl(llm.baseUrl());
        settings.setModel("words-2-0");
        LlmClient client = new LlmClient(settings);
        ConcurrentLinkedQueue<String> onCaller = new ConcurrentLinkedQueue<>();
        ExecutorService callers = Executors.newFixedThreadPool(16);
        try {
            List<Future<?>> all = new ArrayList<>();
            for (int i = 0; i < 400; i++) {
                all.add(callers.submit(() -> {
                    Thread caller = Thread.currentThread();
                    ChatStream stream = client.start(List.of(new LlmClient.Turn("user", "hi")), null, chunk -> {
                        if (Thread.currentThread() == caller) {
                            onCaller.add(chunk);
                        }
                    });
                    return stream.text(Duration.ofSeconds(30));
                }));
            }
            for (Future<?> f : all) {
                assertThat(f.get()).isEqualTo("w1 w2 ");
            }
        } finally {
            callers.shutdownNow();
            client.close();
        }
        assertThat(onCaller).as("chunks handled on the thread that called start()").isEmpty();
    }
}
