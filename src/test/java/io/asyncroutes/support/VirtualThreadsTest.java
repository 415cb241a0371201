package io.asyncroutes.support;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Virtual threads found at run time: on JDK 21+ (the suite runs on 25 where the machine has it), none on 17. */
class VirtualThreadsTest {

    @Test
    void supportedExactlyFromJdk21() {
        assertThat(VirtualThreads.supported()).isEqualTo(Runtime.version().feature() >= 21);
        assertThat(VirtualThreads.current()).as("a JUnit thread is a platform thread").isFalse();
    }

    @Test
    void theExecutorRunsEachTaskOnANamedVirtualThread() throws Exception {
        if (!VirtualThreads.supported()) {
            assertThatThrownBy(() -> VirtualThreads.perTaskExecutor("ar-test"))
                    .isInstanceOf(UnsupportedOperationException.class).hasMessageContaining("JDK 21");
            return;
        }
        ExecutorService executor = VirtualThreads.perTaskExecutor("ar-test");
        try {
            CompletableFuture<String> first = CompletableFuture.supplyAsync(
                    () -> (VirtualThreads.current() ? "virtual " : "platform ") + Thread.currentThread().getName(), executor);
            CompletableFuture<String> second = CompletableFuture.supplyAsync(() -> Thread.currentThread().getName(), executor);
            assertThat(first.get(10, TimeUnit.SECONDS)).matches("virtual ar-test-\\d+");
            assertThat(second.get(10, TimeUnit.SECONDS)).matches("ar-test-\\d+").isNotEqualTo(first.get().substring(8));
        } finally {
            executor.shutdown();
        }
        assertThat(executor.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
    }
}
