package io.asyncroutes.cluster;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Which live instance should own which partition, computed by every instance from the live
 * membership alone, so all of them reach the same answer without talking to each other:
 * <ul>
 *   <li><b>balanced</b>: with P partitions and N members each gets P/N, rounded down or up
 *   (16 on 3: 6, 5, 5);</li>
 *   <li><b>sticky</b>: a hash of (partition, member) says how much a partition prefers a member
 *   (rendezvous hashing); the pairs are taken strongest first, each if its partition is still free
 *   and its member still has room. A member that leaves frees mostly its own partitions, and one
 *   that joins takes mostly partitions that prefer it: few partitions change hands, and each
 *   change costs a drain.</li>
 * </ul>
 */
public final class PartitionAssignment {

    private PartitionAssignment() {
    }

    /** The owner of each partition (index = partition); {@code members} must not be empty. */
    public static List<String> assign(int partitions, List<String> members) {
        if (members.isEmpty()) {
            throw new IllegalArgumentException("no live member");
        }
        List<String> sorted = members.stream().distinct().sorted().toList();
        int n = sorted.size();
        int base = partitions / n;
        int extra = partitions % n; // this many members get one more
        // all (partition, member) pairs, strongest preference first; each pair taken if its partition
        // is still free and its member has room: a partition keeps its member unless stronger pairs fill it
        List<long[]> pairs = new ArrayList<>(partitions * n);
        for (int p = 0; p < partitions; p++) {
            for (int m = 0; m < n; m++) {
                pairs.add(new long[] {score(p, sorted.get(m)), p, m});
            }
        }
        pairs.sort(Comparator.<long[]>comparingLong(pair -> pair[0]).reversed()
                .thenComparingLong(pair -> pair[1]).thenComparingLong(pair -> pair[2]));
        int[] counts = new int[n];
        String[] owners = new String[partitions];
        for (long[] pair : pairs) {
            int p = (int) pair[1];
            int m = (int) pair[2];
            if (owners[p] == null && (counts[m] < base || (counts[m] == base && extra > 0))) {
                if (counts[m] == base) {
                    extra--;
                }
                counts[m]++;
                owners[p] = sorted.get(m);
            }
        }
        return List.of(owners);
    }

    /** A well-mixed hash of (partition, member), the same in every JVM (String.hashCode is specified). */
    static long score(int partition, String member) {
        long z = ((long) member.hashCode() << 32) ^ (partition * 0x9E3779B97F4A7C15L);
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L; // SplitMix64 finaliser
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
