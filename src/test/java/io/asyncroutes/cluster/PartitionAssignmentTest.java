package io.asyncroutes.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/** The target assignment alone: balanced, the same whatever the order of the members, and sticky. */
class PartitionAssignmentTest {

    @Test
    void everyMemberGetsItsShareRoundedDownOrUp() {
        for (int partitions : new int[] {1, 4, 16, 17, 64}) {
            for (int n = 1; n <= 9; n++) {
                List<String> members = members(n);
                Map<String, Long> counts = counts(PartitionAssignment.assign(partitions, members));
                int members2 = n;
                assertThat(counts.values()).as("%d partitions on %d members", partitions, n)
                        .allSatisfy(c -> assertThat(c).isBetween((long) partitions / members2, (long) (partitions + members2 - 1) / members2));
                assertThat(counts.values().stream().mapToLong(Long::longValue).sum()).isEqualTo(partitions);
                if (partitions >= n) {
                    assertThat(counts).hasSize(n);
                }
            }
        }
        assertThat(counts(PartitionAssignment.assign(16, List.of("a", "b", "c"))).values()).containsExactlyInAnyOrder(6L, 5L, 5L);
    }

    @Test
    void everyInstanceComputesTheSameAnswerFromTheSameMembers() {
        List<String> owners = PartitionAssignment.assign(16, List.of("host-1-ab", "host-2-cd", "host-3-ef"));
        assertThat(PartitionAssignment.assign(16, List.of("host-3-ef", "host-1-ab", "host-2-cd"))).isEqualTo(owners);
        assertThat(PartitionAssignment.assign(16, List.of("host-3-ef", "host-1-ab", "host-2-cd", "host-1-ab"))).isEqualTo(owners);
    }

    @Test
    void aLeavingMemberMovesOnlyItsOwnPartitionsAndAJoiningOneTakesFewFromEachOther() {
        int worstLeave = 0;
        int worstJoin = 0;
        for (int run = 0; run < 200; run++) {
            List<String> three = List.of("i" + run + "-a", "i" + run + "-b", "i" + run + "-c");
            List<String> before = PartitionAssignment.assign(16, three);
            String leaving = three.get(run % 3);
            List<String> after = PartitionAssignment.assign(16, three.stream().filter(m -> !m.equals(leaving)).toList());
            int moved = 0;
            for (int p = 0; p < 16; p++) {
                if (!before.get(p).equals(leaving) && !before.get(p).equals(after.get(p))) {
                    moved++;
                }
            }
            worstLeave = Math.max(worstLeave, moved);

            List<String> four = new ArrayList<>(three);
            four.add("i" + run + "-d");
            List<String> joined = PartitionAssignment.assign(16, four);
            int taken = 0;
            for (int p = 0; p < 16; p++) {
                if (!before.get(p).equals(joined.get(p))) {
                    taken++;
                }
            }
            worstJoin = Math.max(worstJoin, taken);
        }
        System.out.printf("partition assignment, 16 partitions: a survivor's partition moved on a leave at most %d times;"
                + " at most %d of 16 changed owner on a join (4 needed)%n", worstLeave, worstJoin);
        assertThat(worstLeave).as("survivors' partitions that moved when one of 3 left").isLessThanOrEqualTo(2);
        assertThat(worstJoin).as("partitions that changed owner when a 4th joined").isLessThanOrEqualTo(8);
    }

    @Test
    void noMembersNoAssignment() {
        assertThatThrownBy(() -> PartitionAssignment.assign(16, List.of())).isInstanceOf(IllegalArgumentException.class);
    }

    private static List<String> members(int n) {
        return IntStream.range(0, n).mapToObj(i -> "member-" + i).toList();
    }

    private static Map<String, Long> counts(List<String> owners) {
        return owners.stream().collect(Collectors.groupingBy(Function.identity(), Collectors.counting()));
    }
}
