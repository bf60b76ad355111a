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
        int lowKey = low.key();
        int highKey = high.key();
        int lowSeen = 0;
        int highSeen = 0;
        for (int i = 0; i < n; i++) {
            int bits = Float.floatToRawIntBits(values[i]);
            int key = bits & 0x7fffffff;
            if (key == lowKey || key == highKey) {
                // tied with a boundary (few entries, so this branch is predictable): ranked by index
                boolean kept = true;
                if (key == lowKey) {
                    kept = lowSeen++ >= lowSkip;
                }
                if (key == highKey) {
                    kept &= highSeen++ < highKeep;
                }
                values[i] = kept ? values[i] : 0f;
            } else {
                // all ones where lowKey < key < highKey (keys are non-negative, so the differences cannot
                // overflow): a mask, not a branch, which the random order of magnitudes would mispredict
                int inside = (lowKey - key) >> 31 & (key - highKey) >> 31;
                values[i] = Float.intBitsToFloat(bits & inside);
            }
        }
    }

    /** The magnitude at ascending rank {@code rank}: histogram the high bits, then the low bits within that bucket. */
    private static Selected select(float[] values, int rank) {
        // Two histograms, for even and odd entries, so that runs of entries in one bucket do not wait on
        // each other's increments.
        int[] even = new int[1 << LOW_BITS];
        int[] odd = new int[1 << LOW_BITS];
        int n = values.length;
        int i = 0;
        for (; i + 1 < n; i += 2) {
            even[key(values[i]) >>> LOW_BITS]++;
            odd[key(values[i + 1]) >>> LOW_BITS]++;
        }
        if (i < n) {
            even[key(values[i]) >>> LOW_BITS]++;
        }
        int smaller = 0;
        int high = 0;
        while (smaller + even[high] + odd[high] <= rank) {
            smaller += even[high] + odd[high];
            high++;
        }
        java.util.Arrays.fill(even, 0);
        for (float value : values) {
            int key = key(value);
            if (key >>> LOW_BITS == high) {
                even[key & LOW_MASK]++;
            }
        }
        int low = 0;
        while (smaller + even[low] <= rank) {
            smaller += even[low++];
        }
        return new Selected(high << LOW_BITS | low, smaller);
    }

    /** |value| as an int that orders like the magnitude (NaN, never in a checked checkpoint, sorts last). */
    private static int key(float value) {
        return Float.floatToRawIntBits(value) & 0x7fffffff;
    }
}
