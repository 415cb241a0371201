package io.asyncroutes.ordering;

import java.util.ArrayList;
import java.util.Map;
import java.util.TreeMap;

/**
 * What a thread's ordering remembers across restarts: the last handled seq, and the seq ranges whose
 * gap was skipped (so a predecessor that turns up after its gap was given up on is recognised as
 * {@code late} and handled, not taken for a duplicate).
 *
 * <p>Text form (the Redis value, readable from any language): {@code "<last>"} or
 * {@code "<last>;<from>-<to>,<from>-<to>"}. At most {@value #MAX_RANGES} skipped ranges are kept,
 * the oldest dropped first: a predecessor older than that is taken for a duplicate.
 */
public final class SeqState {

    public static final int MAX_RANGES = 64;

    private long last;
    /** Skipped ranges, from → to (inclusive), disjoint. */
    private final TreeMap<Long, Long> skipped = new TreeMap<>();

    public SeqState(long last) {
        this.last = last;
    }

    public long last() {
        return last;
    }

    public void last(long last) {
        this.last = last;
    }

    /** Whether {@code seq} lies in a range whose gap was skipped and has not been handled since. */
    public boolean isSkipped(long seq) {
        Map.Entry<Long, Long> range = skipped.floorEntry(seq);
        return range != null && seq <= range.getValue();
    }

    /** Records the range {@code from..to} as skipped. */
    public void addSkipped(long from, long to) {
        if (from > to) {
            return;
        }
        skipped.put(from, to);
        while (skipped.size() > MAX_RANGES) {
            skipped.pollFirstEntry();
        }
    }

    /** A late predecessor was handled: its seq is no longer missing. */
    public void removeSkipped(long seq) {
        Map.Entry<Long, Long> range = skipped.floorEntry(seq);
        if (range == null || seq > range.getValue()) {
            return;
        }
        long from = range.getKey();
        long to = range.getValue();
        skipped.remove(from);
        if (from < seq) {
            skipped.put(from, seq - 1);
        }
        if (seq < to) {
            skipped.put(seq + 1, to);
        }
    }

    /** A skip was undone: {@code from..to}, recorded as skipped before, is missing no longer. */
    public void removeSkipped(long from, long to) {
        Long start = skipped.floorKey(from);
        if (start == null || skipped.get(start) < from) {
            start = from;
        }
        // copies of the keys: removing from a TreeMap may reuse the entries it handed out
        for (Long rangeFrom : new ArrayList<>(skipped.subMap(start, true, to, true).keySet())) {
            long rangeTo = skipped.remove(rangeFrom);
            if (rangeFrom < from) {
                skipped.put(rangeFrom, from - 1);
            }
            if (rangeTo > to) {
                skipped.put(to + 1, rangeTo);
            }
        }
    }

    public int skippedRanges() {
        return skipped.size();
    }

    public SeqState copy() {
        SeqState copy = new SeqState(last);
        copy.skipped.putAll(skipped);
        return copy;
    }

    public String format() {
        if (skipped.isEmpty()) {
            return Long.toString(last);
        }
        StringBuilder text = new StringBuilder().append(last).append(';');
        skipped.forEach((from, to) -> text.append(from).append('-').append(to).append(','));
        text.setLength(text.length() - 1);
        return text.toString();
    }

    /** Parses {@link #format()}'s text; a plain number (the earlier form) is read too. */
    public static SeqState parse(String text) {
        if (text == null || text.isEmpty()) {
            return new SeqState(0);
        }
        int semicolon = text.indexOf(';');
        SeqState state = new SeqState(Long.parseLong(semicolon < 0 ? text : text.substring(0, semicolon)));
        if (semicolon >= 0) {
            for (String range : text.substring(semicolon + 1).split(",")) {
                int dash = range.indexOf('-');
                state.addSkipped(Long.parseLong(range.substring(0, dash)), Long.parseLong(range.substring(dash + 1)));
            }
        }
        return state;
    }

    @Override
    public String toString() {
        return format();
    }
}
