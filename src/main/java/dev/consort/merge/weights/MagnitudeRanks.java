package dev.consort.merge.weights;

/**
 * Keeps the entries of a tensor whose magnitude ranks in a given range and zeroes the others, by
 * partial selection instead of a sort: the magnitude found at a rank by a two-pass radix select on the
 * float bits (non-negative floats order like their bit patterns), then one masking pass. Linear time, no
 * copy of the tensor. Ranks are those of a stable ascending sort of |x|: among equal magnitudes, the
 * lower index ranks lower.
 */
final class MagnitudeRanks {

    private static final int LOW_BITS = 16;
    private static final int LOW_MASK = (1 << LOW_BITS) - 1;

    /** A magnitude (as its bits) and how many entries are strictly smaller. */
    private record Selected(int key, int smaller) {}

    private MagnitudeRanks() {}

    /** Keeps the entries whose ascending magnitude rank r satisfies {@code from <= r < to}; zeroes the rest. */
    static void keep(float[] values, int from, int to) {
        int n = values.length;
        from = Math.max(0, from);
        to = Math.min(n, to);
        if (from == 0 && to == n) {
            return;
        }
        if (from >= to) {
            java.util.Arrays.fill(values, 0f);
            return;
        }
        Selected low = from == 0 ? new Selected(0, 0) : select(values, from);
        Selected high = to == n ? new Selected(Integer.MAX_VALUE, n) : select(values, to - 1);
        // Of the entries equal to the low magnitude, the first (from - smaller) rank below `from`;
        // of those equal to the high one, the first (to - smaller) rank below `to`.
        int lowSkip = from - low.smaller();
        int highKeep = to - high.smaller();
        int lowSeen = 0;
        int highSeen = 0;
        for (int i = 0; i < n; i++) {
            int key = key(values[i]);
            boolean kept = key >= low.key() && key <= high.key();
            if (key == low.key()) {
                kept &= lowSeen++ >= lowSkip;
            }
            if (key == high.key()) {
                kept &= highSeen++ < highKeep;
            }
            if (!kept) {
                values[i] = 0f;
            }
        }
    }

    /** The magnitude at ascending rank {@code rank}: histogram the high bits, then the low bits within that bucket. */
    private static Selected select(float[] values, int rank) {
        int[] counts = new int[1 << LOW_BITS];
        for (float value : values) {
            counts[key(value) >>> LOW_BITS]++;
        }
        int smaller = 0;
        int high = 0;
        while (smaller + counts[high] <= rank) {
            smaller += counts[high++];
        }
        java.util.Arrays.fill(counts, 0);
        for (float value : values) {
            int key = key(value);
            if (key >>> LOW_BITS == high) {
                counts[key & LOW_MASK]++;
            }
        }
        int low = 0;
        while (smaller + counts[low] <= rank) {
            smaller += counts[low++];
        }
        return new Selected(high << LOW_BITS | low, smaller);
    }

    /** |value| as an int that orders like the magnitude (NaN, never in a checked checkpoint, sorts last). */
    private static int key(float value) {
        return Float.floatToRawIntBits(value) & 0x7fffffff;
    }
}
