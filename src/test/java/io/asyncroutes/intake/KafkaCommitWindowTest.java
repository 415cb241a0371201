package io.asyncroutes.intake;

import static org.assertj.core.api.Assertions.assertThat;

import io.asyncroutes.intake.KafkaCommitWindow.Delivery;
import io.asyncroutes.intake.KafkaCommitWindow.Partition;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/** The commit window alone: what may be committed is always the lowest unfinished offset. */
class KafkaCommitWindowTest {

    private static final Partition P0 = new Partition("t", 0);
    private static final Partition P1 = new Partition("t", 1);

    private final KafkaCommitWindow window = new KafkaCommitWindow(4);

    private Map<Partition, Long> commits() {
        return window.takeCommits(p -> true);
    }

    @Test
    void aCompletedOffsetAboveAnUnfinishedOneWaitsForIt() {
        Delivery d10 = window.received("t", 0, 10);
        Delivery d11 = window.received("t", 0, 11);
        Delivery d12 = window.received("t", 0, 12);
        d11.completed();
        d12.completed();
        assertThat(commits()).isEmpty();
        d10.completed();
        // everything up to 12 done: the next offset to read is 13
        assertThat(commits()).containsExactly(Map.entry(P0, 13L));
        assertThat(commits()).as("handed out once").isEmpty();
    }

    @Test
    void theCommitIsTheLowestUnfinishedOffsetAndGapsInOffsetsDoNotMatter() {
        Delivery d5 = window.received("t", 0, 5);
        Delivery d8 = window.received("t", 0, 8); // 6 and 7 are transaction markers or compacted away
        Delivery d9 = window.received("t", 0, 9);
        d5.completed();
        d9.completed();
        assertThat(commits()).containsExactly(Map.entry(P0, 8L));
        d8.completed();
        assertThat(commits()).containsExactly(Map.entry(P0, 10L));
    }

    @Test
    void partitionsAreIndependentAndOnlyOwnedOnesAreHandedOut() {
        window.received("t", 0, 0).completed();
        window.received("t", 1, 0);
        window.received("t", 1, 1).completed();
        assertThat(window.takeCommits(p -> p.equals(P1))).isEmpty();
        assertThat(window.takeCommits(p -> p.equals(P0))).containsExactly(Map.entry(P0, 1L));
    }

    @Test
    void aFailedCommitIsHandedOutAgain() {
        window.received("t", 0, 0).completed();
        assertThat(commits()).containsExactly(Map.entry(P0, 1L));
        window.commitFailed(P0, 1L);
        assertThat(commits()).containsExactly(Map.entry(P0, 1L));
    }

    @Test
    void aFullPartitionHasRoomAgainAtHalfTheWindow() {
        List<Delivery> d = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            d.add(window.received("t", 0, i));
        }
        assertThat(window.isFull(P0)).isTrue();
        assertThat(window.isFull(P1)).isFalse();
        d.get(3).completed();
        assertThat(window.hasRoom(P0)).isFalse();
        d.get(1).completed();
        assertThat(window.hasRoom(P0)).isTrue();
        assertThat(window.inFlight()).isEqualTo(2);
    }

    @Test
    void aRecordReadAgainDoesNotHoldTheFloorTwice() {
        Delivery first = window.received("t", 0, 0);
        Delivery again = window.received("t", 0, 0);
        again.completed();
        assertThat(commits()).isEmpty();
        first.completed();
        assertThat(commits()).containsExactly(Map.entry(P0, 1L));
        window.received("t", 0, 0).completed(); // below the floor: nothing changes
        assertThat(commits()).isEmpty();
        assertThat(window.inFlight()).isZero();
    }

    @Test
    void revocationWaitsForInFlightRecordsThenReturnsWhatIsSafe() throws Exception {
        Delivery d0 = window.received("t", 0, 0);
        Delivery d1 = window.received("t", 0, 1);
        d1.completed();
        assertThat(d0.claim()).isTrue(); // being handled: the revocation waits for it
        CompletableFuture.runAsync(d0::completed, CompletableFuture.delayedExecutor(100, java.util.concurrent.TimeUnit.MILLISECONDS));
        assertThat(window.revoke(List.of(P0), Duration.ofSeconds(5))).containsExactly(Map.entry(P0, 2L));
        assertThat(d0.isCurrent()).isFalse();
    }

    @Test
    void revocationGivesUpOnWhatDoesNotCompleteInTime() throws Exception {
        Delivery d0 = window.received("t", 0, 0);
        window.received("t", 0, 1).claim(); // being handled, and never finishing
        d0.completed();
        long started = System.nanoTime();
        assertThat(window.revoke(List.of(P0), Duration.ofMillis(200))).containsExactly(Map.entry(P0, 1L));
        assertThat(Duration.ofNanos(System.nanoTime() - started)).isGreaterThanOrEqualTo(Duration.ofMillis(190));
        assertThat(window.inFlight()).isZero();
    }

    @Test
    void duringARevocationNothingIsCurrentAndAnAbandonedRecordIsNeverCommittedPast() throws Exception {
        Delivery handled = window.received("t", 0, 0);
        Delivery waiting = window.received("t", 0, 1); // an early message waiting in the ordering gate
        Delivery after = window.received("t", 0, 2);
        assertThat(handled.claim()).isTrue(); // past the gate, being handled
        assertThat(after.claim()).isTrue();
        CompletableFuture<Map<Partition, Long>> revoked = CompletableFuture.supplyAsync(() -> {
            try {
                return window.revoke(List.of(P0), Duration.ofSeconds(5));
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(2)).until(() -> !waiting.isCurrent());
        assertThat(handled.isCurrent()).isFalse();
        assertThat(waiting.claim()).as("released after the revocation began: not to be handled").isFalse();
        waiting.abandoned();   // dropped unhandled
        handled.completed();   // it was being handled: it completes and counts
        after.completed();
        // the revocation did not wait for its timeout, and commits below the abandoned record
        assertThat(revoked.get(2, java.util.concurrent.TimeUnit.SECONDS)).containsExactly(Map.entry(P0, 1L));
    }

    @Test
    void aRevocationDoesNotWaitForRecordsStillWaitingForTheirTurn() throws Exception {
        window.received("t", 0, 0).completed();
        window.received("t", 0, 1); // waits in the ordering gate for a predecessor later in the partition
        long started = System.nanoTime();
        assertThat(window.revoke(List.of(P0), Duration.ofSeconds(5))).containsExactly(Map.entry(P0, 1L));
        assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(1));
    }

    @Test
    void completionsOfAPreviousOwnershipAreIgnored() {
        Delivery old = window.received("t", 0, 7);
        window.assigned(List.of(P0)); // lost and assigned back: Kafka reads from the committed offset again
        Delivery fresh = window.received("t", 0, 7);
        old.completed();
        assertThat(commits()).isEmpty();
        assertThat(old.isCurrent()).isFalse();
        assertThat(fresh.isCurrent()).isTrue();
        fresh.completed();
        assertThat(commits()).containsExactly(Map.entry(P0, 8L));
    }

    @Test
    void shuffledCompletionsFromManyThreadsEndAtTheHighestOffsetPlusOne() throws Exception {
        KafkaCommitWindow big = new KafkaCommitWindow(100_000);
        List<Delivery> deliveries = new ArrayList<>();
        for (int i = 0; i < 20_000; i++) {
            deliveries.add(big.received("t", i % 4, i / 4));
        }
        Collections.shuffle(deliveries, new Random(13));
        List<Long> committed0 = Collections.synchronizedList(new ArrayList<>());
        deliveries.parallelStream().forEach(d -> {
            d.completed();
            synchronized (committed0) { // taken and recorded together, so the list shows the order taken
                Long c = big.takeCommits(p -> p.partition() == 0).get(P0);
                if (c != null) {
                    committed0.add(c);
                }
            }
        });
        Map<Partition, Long> rest = big.takeCommits(p -> true);
        rest.forEach((p, offset) -> assertThat(offset).isEqualTo(5000L));
        List<Long> sorted = new ArrayList<>(committed0);
        Collections.sort(sorted);
        assertThat(committed0).as("commits of a partition only move forward").isEqualTo(sorted);
        assertThat(big.inFlight()).isZero();
    }
}
