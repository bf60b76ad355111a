package dev.consort.merge.weights;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import java.util.Comparator;
import java.util.Random;
import java.util.stream.IntStream;

import org.junit.jupiter.api.Test;

/** The partial selection behind TIES and breadcrumbs against a full stable sort. */
class MergeSparsificationTest {

    /** What keep(values, from, to) must do: a stable ascending sort by magnitude, ranks [from, to) kept. */
    private static float[] bySorting(float[] values, int from, int to) {
        Integer[] order = IntStream.range(0, values.length).boxed().toArray(Integer[]::new);
        Arrays.sort(order, Comparator.comparingDouble(i -> Math.abs(values[i])));
        float[] kept = new float[values.length];
        for (int rank = Math.max(0, from); rank < Math.min(values.length, to); rank++) {
            kept[order[rank]] = values[order[rank]];
        }
        return kept;
    }

    @Test
    void keepsTheSameEntriesAsAStableSortIncludingTies() {
        Random random = new Random(3);
        for (int trial = 0; trial < 200; trial++) {
            int n = 1 + random.nextInt(300);
            float[] values = new float[n];
            for (int i = 0; i < n; i++) {
                // few distinct magnitudes, both signs and zeros, so ties at the boundaries are common
                values[i] = (random.nextInt(7) - 3) * (trial % 2 == 0 ? 0.5f : random.nextFloat());
            }
            int from = random.nextInt(n + 1);
            int to = from + random.nextInt(n + 1 - from);
            float[] kept = values.clone();
            MagnitudeRanks.keep(kept, from, to);
            assertThat(kept).as("n=%d from=%d to=%d", n, from, to).isEqualTo(bySorting(values, from, to));
        }
    }

    @Test
    void topKOnALargeTensorKeepsExactlyK() {
        float[] values = MergeMethodsTest.random(1_000_003, 5);
        float[] kept = values.clone();
        Sparsification.MAGNITUDE.apply(kept, 0.25, 0, 0, kept.length, false, null);
        int k = (int) (0.25 * values.length);
        assertThat(IntStream.range(0, kept.length).filter(i -> kept[i] != 0).count()).isEqualTo(k);
        float smallestKept = Float.MAX_VALUE;
        float largestDropped = 0;
        for (int i = 0; i < values.length; i++) {
            if (kept[i] != 0) {
                smallestKept = Math.min(smallestKept, Math.abs(values[i]));
            } else {
                largestDropped = Math.max(largestDropped, Math.abs(values[i]));
            }
        }
        assertThat(smallestKept).isGreaterThanOrEqualTo(largestDropped);
    }

    @Test
    void rescaleRestoresTheL1NormForMagnitudeSparsification() {
        float[] values = {1, -2, 3, -4};
        // keeps -4 and 3 (L1 7 of 10): scaled by 10/7
        Sparsification.MAGNITUDE.apply(values, 0.5, 0, 0, values.length, true, null);
        assertThat(values[0]).isZero();
        assertThat(values[2]).isEqualTo(3 * (float) (10.0 / 7));
        assertThat(values[3]).isEqualTo(-4 * (float) (10.0 / 7));
    }
}
