package io.asyncroutes.ordering;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.asyncroutes.ordering.ThreadOrderingEngine.Ticket;
import io.asyncroutes.ordering.ThreadOrderingEngine.Verdict;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The ordering engine alone, without Camel: verdicts, late predecessors, redelivered copies, state text form. */
class ThreadOrderingEngineTest {

    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();
    private final InMemorySeqStore store = new InMemorySeqStore();
    private final List<Long> skippedFrom = new CopyOnWriteArrayList<>();
    /** Tickets whose turn came later, in the order it came. */
    private final List<Ticket> released = new CopyOnWriteArrayList<>();
    private ThreadOrderingEngine engine;

    @BeforeEach
    void setUp() {
        engine = new ThreadOrderingEngine(store, Duration.ofMillis(200), 8, 100, 1000, new ThreadOrderingEngine.Listener() {
            @Override
            public void gapSkipped(String key, long from, long to) {
                skippedFrom.add(from);
            }
        });
        engine.start(timer, null);
    }

    @AfterEach
    void tearDown() {
        engine.stop();
        timer.shutdownNow();
    }

    private Ticket submit(String key, long seq, String id) throws InterruptedException {
        return engine.submit(key, seq, id, released::add);
    }

    @Test
    void inOrderMessagesPassAtOnceAndAnEarlyOneWaitsForItsPredecessor() throws Exception {
        Ticket one = submit("t", 1, "a1");
        assertThat(one.isReady()).isTrue();
        assertThat(one.verdict()).isEqualTo(Verdict.IN_ORDER);
        Ticket three = submit("t", 3, "a3");
        Ticket two = submit("t", 2, "a2");
        assertThat(three.isReady()).isFalse();
        assertThat(two.isReady()).isFalse();
        engine.end(one, true);
        assertThat(released).containsExactly(two);
        engine.end(two, true);
        assertThat(released).containsExactly(two, three);
        engine.end(three, true);
        assertThat(skippedFrom).isEmpty();
        assertThat(store.load("t").last()).isEqualTo(3);
        assertThat(engine.activeThreads()).as("idle thread evicted").isZero();
    }

    @Test
    void aPredecessorThatComesAfterItsGapWasSkippedIsLateNotDuplicate() throws Exception {
        Ticket three = submit("t", 3, "b3");
        assertThat(three.isReady()).isFalse();
        await().atMost(Duration.ofSeconds(5)).until(() -> released.contains(three));
        assertThat(skippedFrom).containsExactly(1L);
        engine.end(three, true);
        assertThat(store.load("t").format()).isEqualTo("3;1-2");

        Ticket two = submit("t", 2, "b2");
        assertThat(two.isReady()).isTrue();
        assertThat(two.verdict()).isEqualTo(Verdict.LATE);
        engine.end(two, true);
        assertThat(store.load("t").format()).isEqualTo("3;1-1");

        Ticket twoAgain = submit("t", 2, "other-id");
        assertThat(twoAgain.verdict()).as("seq 2 has been handled now").isEqualTo(Verdict.DUPLICATE);
        Ticket three2 = submit("t", 3, "other-3");
        assertThat(three2.verdict()).isEqualTo(Verdict.DUPLICATE);
        Ticket one = submit("t", 1, "b1");
        assertThat(one.verdict()).isEqualTo(Verdict.LATE);
        engine.end(one, true);
        assertThat(store.load("t").format()).isEqualTo("3");
    }

    @Test
    void aPredecessorArrivingWhileItsSkippingSuccessorIsInFlightIsLate() throws Exception {
        Ticket three = submit("t", 3, "f3");
        await().atMost(Duration.ofSeconds(5)).until(() -> released.contains(three)); // gap 1..2 skipped, 3 in flight
        Ticket two = submit("t", 2, "f2");
        Ticket threeAgain = submit("t", 3, "f3-other");
        assertThat(threeAgain.verdict()).as("the seq in flight, under another id").isEqualTo(Verdict.DUPLICATE);
        engine.end(three, true);
        assertThat(released).containsExactly(three, two);
        assertThat(two.verdict()).isEqualTo(Verdict.LATE);
        engine.end(two, true);
        assertThat(store.load("t").format()).isEqualTo("3;1-1");
    }

    @Test
    void aFailedTurnDoesNotCountAsHandled() throws Exception {
        Ticket one = submit("t", 1, "c1");
        engine.end(one, false);
        Ticket again = submit("t", 1, "c1");
        assertThat(again.verdict()).isEqualTo(Verdict.IN_ORDER);
        engine.end(again, true);
        assertThat(store.load("t").last()).isEqualTo(1);
    }

    @Test
    void aFailedMessageHoldsItsSuccessorsPastTheGapTimeoutUntilItsRedeliveryReturns() throws Exception {
        engine.setRedeliveryHold(Duration.ofSeconds(5));
        Ticket one = submit("t", 1, "h1");
        Ticket two = submit("t", 2, "h2");
        Ticket three = submit("t", 3, "h3");
        engine.end(one, false); // a dependency failed: seq 1 goes back to the broker
        // three gap timeouts pass: seq 1 has arrived and is coming back, so nothing is skipped
        await().during(Duration.ofMillis(600)).atMost(Duration.ofSeconds(2)).until(() -> released.isEmpty());
        Ticket redelivered = submit("t", 1, "h1");
        assertThat(redelivered.isReady()).isTrue();
        assertThat(redelivered.verdict()).isEqualTo(Verdict.IN_ORDER);
        engine.end(redelivered, true);
        assertThat(released).containsExactly(two);
        engine.end(two, true);
        assertThat(released).containsExactly(two, three);
        assertThat(three.verdict()).isEqualTo(Verdict.IN_ORDER);
        engine.end(three, true);
        assertThat(skippedFrom).isEmpty();
        assertThat(store.load("t").format()).isEqualTo("3");
    }

    @Test
    void aMessageThatDoesNotComeBackHoldsItsThreadOnlyForTheHoldThenIsLate() throws Exception {
        engine.setRedeliveryHold(Duration.ofMillis(700));
        Ticket one = submit("t", 1, "k1");
        Ticket two = submit("t", 2, "k2");
        long failedAt = System.nanoTime();
        engine.end(one, false);
        await().atMost(Duration.ofSeconds(5)).until(() -> released.contains(two));
        assertThat(Duration.ofNanos(System.nanoTime() - failedAt)).isGreaterThanOrEqualTo(Duration.ofMillis(650));
        assertThat(skippedFrom).containsExactly(1L);
        engine.end(two, true);
        Ticket finallyBack = submit("t", 1, "k1");
        assertThat(finallyBack.verdict()).isEqualTo(Verdict.LATE);
        engine.end(finallyBack, true);
        assertThat(store.load("t").format()).isEqualTo("2");
    }

    @Test
    void aMessageRefusedWhileTheStateStoreIsDownHoldsTheSuccessorsThatComeAfterIt() throws Exception {
        java.util.concurrent.atomic.AtomicBoolean down = new java.util.concurrent.atomic.AtomicBoolean(true);
        ThreadOrderingEngine flaky = new ThreadOrderingEngine(new SeqStore() {
            @Override
            public SeqState load(String threadId) {
                if (down.get()) {
                    throw new IllegalStateException("Redis down");
                }
                return store.load(threadId);
            }

            @Override
            public void save(String threadId, SeqState state) {
                store.save(threadId, state);
            }
        }, Duration.ofMillis(200), 8, 100, 1000, new ThreadOrderingEngine.Listener() { });
        flaky.setRedeliveryHold(Duration.ofSeconds(5));
        flaky.start(timer, null);
        try {
            // a new thread's first two messages both fail and go back to the broker
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> flaky.submit("r", 1L, "r1", released::add))
                    .hasMessageContaining("Redis down");
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> flaky.submit("r", 2L, "r2", released::add))
                    .hasMessageContaining("Redis down");
            down.set(false);
            Ticket three = flaky.submit("r", 3L, "r3", released::add);
            await().during(Duration.ofMillis(600)).atMost(Duration.ofSeconds(2)).until(() -> released.isEmpty());
            Ticket one = flaky.submit("r", 1L, "r1", released::add);
            assertThat(one.verdict()).isEqualTo(Verdict.IN_ORDER);
            flaky.end(one, true);
            // seq 1 is back and handled; seq 2 is still on its way: seq 3 goes on waiting for it
            await().during(Duration.ofMillis(600)).atMost(Duration.ofSeconds(2)).until(() -> released.isEmpty());
            Ticket two = flaky.submit("r", 2L, "r2", released::add);
            assertThat(two.isReady()).isTrue();
            assertThat(two.verdict()).isEqualTo(Verdict.IN_ORDER);
            flaky.end(two, true);
            assertThat(released).containsExactly(three);
            assertThat(three.verdict()).isEqualTo(Verdict.IN_ORDER);
            flaky.end(three, true);
        } finally {
            flaky.stop();
        }
    }

    @Test
    void aRedeliveredCopyOfAWaitingMessageTakesItsPlace() throws Exception {
        Ticket one = submit("t", 1, "d1");
        Ticket two = submit("t", 2, "d2");
        Ticket copy = submit("t", 2, "d2");
        assertThat(copy.verdict()).as("a copy, not a seq duplicate").isNotEqualTo(Verdict.DUPLICATE);
        assertThat(released).containsExactly(two);
        assertThat(two.error()).hasMessageContaining("replaced");
        engine.end(one, true);
        assertThat(released).containsExactly(two, copy);
        assertThat(copy.verdict()).isEqualTo(Verdict.IN_ORDER);
        engine.end(copy, true);
        assertThat(engine.pendingMessages()).isZero();
    }

    @Test
    void aRedeliveredCopyOfTheMessageInFlightWaitsBehindIt() throws Exception {
        Ticket one = submit("t", 1, "e1");
        Ticket copy = submit("t", 1, "e1");
        assertThat(copy.isReady()).isFalse();
        engine.end(one, true);
        assertThat(released).containsExactly(copy);
        assertThat(copy.verdict()).isEqualTo(Verdict.IN_ORDER);
        engine.end(copy, true);
        assertThat(store.load("t").last()).isEqualTo(1);
        assertThat(engine.pendingMessages()).isZero();
    }

    /**
     * A message that skipped a gap and then failed (its dependency, often the same broker outage that
     * kept the gap open, is away): the skip is undone. The predecessor that comes next is in order,
     * not late, and the failed message's successor in the gap waits for it again.
     */
    @Test
    void aGapSkippedByAMessageThatThenFailedIsAwaitedAgain() throws Exception {
        Ticket three = submit("t", 3, "g3");
        await().atMost(Duration.ofSeconds(5)).until(() -> released.contains(three)); // gap 1..2 skipped
        Ticket two = submit("t", 2, "g2");
        assertThat(two.isReady()).as("late while the skip stands: waits behind 3").isFalse();
        engine.end(three, false);
        assertThat(released).as("2 waits for 1 again instead of passing as late").containsExactly(three);

        Ticket one = submit("t", 1, "g1");
        assertThat(one.isReady()).isTrue();
        assertThat(one.verdict()).isEqualTo(Verdict.IN_ORDER);
        engine.end(one, true);
        assertThat(released).containsExactly(three, two);
        assertThat(two.verdict()).isEqualTo(Verdict.IN_ORDER);
        engine.end(two, true);
        Ticket redelivered = submit("t", 3, "g3");
        assertThat(redelivered.verdict()).isEqualTo(Verdict.IN_ORDER);
        engine.end(redelivered, true);
        assertThat(store.load("t").format()).as("nothing left skipped").isEqualTo("3");
    }

    /** The redelivered copy waiting behind a failed skipping message waits for the reopened gap too. */
    @Test
    void theCopyOfAFailedSkippingMessageWaitsForTheGapItSkipped() throws Exception {
        Ticket two = submit("t", 2, "i2");
        await().atMost(Duration.ofSeconds(5)).until(() -> released.contains(two)); // gap 1 skipped
        Ticket copy = submit("t", 2, "i2"); // its connection was lost: the broker delivered it again
        engine.end(two, false);
        assertThat(released).as("the copy is not handled before seq 1").containsExactly(two);

        Ticket one = submit("t", 1, "i1");
        assertThat(one.verdict()).isEqualTo(Verdict.IN_ORDER);
        engine.end(one, true);
        assertThat(released).containsExactly(two, copy);
        assertThat(copy.verdict()).isEqualTo(Verdict.IN_ORDER);
        engine.end(copy, true);
        assertThat(store.load("t").format()).isEqualTo("2");
    }

    /**
     * The copy waiting behind a message that then failed is that message now: handled, it moves the
     * thread's last seq, so its successor goes on at once rather than after a gap timeout.
     */
    @Test
    void theCopyOfAFailedMessageCountsAsHandledWhenItIs() throws Exception {
        Ticket one = submit("t", 1, "j1");
        Ticket copy = submit("t", 1, "j1");
        Ticket two = submit("t", 2, "j2");
        engine.end(one, false);
        assertThat(released).containsExactly(copy);
        assertThat(copy.verdict()).isEqualTo(Verdict.IN_ORDER);
        engine.end(copy, true);
        assertThat(released).as("seq 1 handled: 2 follows at once").containsExactly(copy, two);
        assertThat(two.verdict()).isEqualTo(Verdict.IN_ORDER);
        engine.end(two, true);
        assertThat(skippedFrom).isEmpty();
        assertThat(store.load("t").format()).isEqualTo("2");
    }

    /**
     * The intake's connection dropped: what waits is handed back (the broker delivers it again), so
     * nothing stale runs its gap timeout or gets a turn; what is in flight goes on. The copies that
     * come back then pass in order, nothing skipped.
     */
    @Test
    void waitingMessagesAreHandedBackWhenTheirConnectionIsLostAndTheirCopiesPassInOrder() throws Exception {
        Ticket one = submit("t", 1, "q1");
        Ticket two = submit("t", 2, "q2");
        Ticket five = submit("u", 5, "q5");
        assertThat(engine.handBackWaiting()).isEqualTo(2);
        assertThat(released).containsExactlyInAnyOrder(two, five);
        assertThat(two.error()).isInstanceOf(io.asyncroutes.support.SupersededDeliveryException.class);
        assertThat(five.error()).isInstanceOf(io.asyncroutes.support.SupersededDeliveryException.class);
        assertThat(engine.pendingMessages()).as("seq 1, in flight, goes on").isEqualTo(1);
        // three gap timeouts: nothing left to skip
        await().during(Duration.ofMillis(600)).atMost(Duration.ofSeconds(2)).until(() -> released.size() == 2);
        engine.end(one, false); // in flight when the connection dropped: its acknowledgement fails

        // the broker delivers all three again, in queue order
        Ticket oneAgain = submit("t", 1, "q1");
        Ticket twoAgain = submit("t", 2, "q2");
        assertThat(oneAgain.verdict()).isEqualTo(Verdict.IN_ORDER);
        engine.end(oneAgain, true);
        assertThat(released).contains(twoAgain);
        assertThat(twoAgain.verdict()).isEqualTo(Verdict.IN_ORDER);
        engine.end(twoAgain, true);
        assertThat(skippedFrom).isEmpty();
        assertThat(store.load("t").format()).isEqualTo("2");
        assertThat(engine.activeThreads()).as("u had only the handed-back message: gone").isZero();
    }

    @Test
    void atAStopWhatWaitsIsHandedBackAtOnceAndNoGapIsSkipped() throws Exception {
        Ticket one = submit("t", 1, "s1");
        Ticket three = submit("t", 3, "s3"); // waits for seq 2, still on the (stopping) queue
        assertThat(engine.closeForShutdown()).isEqualTo(1);
        assertThat(released).containsExactly(three);
        assertThat(three.error()).isInstanceOf(io.asyncroutes.support.StoppingException.class);

        Ticket five = submit("u", 5, "s5"); // would wait for 1..4: handed back as it arrives
        assertThat(released).containsExactly(three, five);
        assertThat(five.error()).isInstanceOf(io.asyncroutes.support.StoppingException.class);
        Ticket first = submit("v", 1, "v1"); // its turn: it passes and is handled
        assertThat(first.isReady()).isTrue();
        assertThat(first.verdict()).isEqualTo(Verdict.IN_ORDER);

        Ticket two = submit("t", 2, "s2"); // behind seq 1, in flight: it would wait
        assertThat(two.error()).isInstanceOf(io.asyncroutes.support.StoppingException.class);
        // three gap timeouts: nothing is skipped, the message in flight finishes
        await().during(Duration.ofMillis(600)).atMost(Duration.ofSeconds(2)).until(() -> released.size() == 3);
        engine.end(one, true);
        engine.end(first, true);
        assertThat(skippedFrom).isEmpty();
        assertThat(store.load("t").format()).isEqualTo("1");
    }

    @Test
    void seqStateTextFormRoundTripsAndReadsThePlainNumber() {
        assertThat(SeqState.parse("17").last()).isEqualTo(17);
        SeqState state = SeqState.parse("40;3-5,9-9,20-30");
        assertThat(state.isSkipped(4)).isTrue();
        assertThat(state.isSkipped(6)).isFalse();
        assertThat(state.isSkipped(9)).isTrue();
        state.removeSkipped(25);
        assertThat(state.format()).isEqualTo("40;3-5,9-9,20-24,26-30");
        state.removeSkipped(4, 22); // a skip undone: whatever of 4..22 was recorded
        assertThat(state.format()).isEqualTo("40;3-3,23-24,26-30");
        for (int i = 0; i < 100; i++) {
            state.addSkipped(100 + 2L * i, 100 + 2L * i);
        }
        assertThat(state.skippedRanges()).isEqualTo(SeqState.MAX_RANGES);
    }

    /**
     * A turn whose state the caller wrote itself (with its other writes, one round trip) is not
     * written again when it ends; a late turn's state is the skipped range without its seq.
     */
    @Test
    void aStateTheCallerRecordedIsNotWrittenAgainWhenTheTurnEnds() throws Exception {
        List<String> saves = new CopyOnWriteArrayList<>();
        java.util.Map<String, String> stored = new java.util.concurrent.ConcurrentHashMap<>();
        SeqStore counting = new SeqStore() {
            @Override
            public SeqState load(String threadId) {
                return SeqState.parse(stored.get(threadId));
            }

            @Override
            public void save(String threadId, SeqState state) {
                saves.add(state.format());
                stored.put(threadId, state.format());
            }
        };
        ThreadOrderingEngine own = new ThreadOrderingEngine(counting, Duration.ofMillis(200), 8, 100, 1000,
                new ThreadOrderingEngine.Listener() {
                });
        own.start(timer, null);
        try {
            Ticket one = own.submit("r", 1L, "r1", released::add);
            SeqState once = one.stateIfHandled();
            assertThat(once.format()).isEqualTo("1");
            stored.put("r", once.format()); // the caller's own write (HandledRecord: with its other writes)
            one.stateRecorded(once);
            own.end(one, true);
            assertThat(saves).as("already recorded by the caller").isEmpty();

            Ticket two = own.submit("r", 2L, "r2", released::add);
            own.end(two, true);
            assertThat(saves).as("not recorded by the caller: the turn's end writes it").containsExactly("2");

            Ticket copy = own.submit("r", 3L, "r3", released::add);
            Ticket again = own.submit("r", 3L, "r3", released::add);
            assertThat(again.stateIfHandled()).as("a copy changes nothing").isNull();
            SeqState recorded = copy.stateIfHandled();
            copy.stateRecorded(new SeqState(99)); // recorded something else: the end still writes the real state
            own.end(copy, true);
            assertThat(saves).containsExactly("2", recorded.format());
        } finally {
            own.stop();
        }
    }
}
