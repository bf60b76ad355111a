package dev.consort.merge.weights;

import java.util.random.RandomGenerator;

/**
 * How a task-vector method thins each model's delta before combining them (mergekit's sparsify.py).
 * Each works in place on one delta; at {@code density} 1 (or above) the delta is left whole.
 */
enum Sparsification {

    /** TIES: keep the ⌊density·n⌋ entries of largest magnitude. */
    MAGNITUDE {
        @Override
        void apply(float[] delta, double density, double gamma, double epsilon, int columns, boolean rescale,
                RandomGenerator random) {
            if (density >= 1) {
                return;
            }
            int n = delta.length;
            int kept = (int) (density * n);
            rescaleL1(delta, rescale, () -> MagnitudeRanks.keep(delta, n - kept, n));
        }
    },

    /** DARE: keep each entry with probability {@code density}; with {@code rescale}, divide the kept ones by it. */
    RANDOM {
        @Override
        void apply(float[] delta, double density, double gamma, double epsilon, int columns, boolean rescale,
                RandomGenerator random) {
            if (density >= 1) {
                return;
            }
            float scale = rescale ? (float) (1 / density) : 1f;
            for (int i = 0; i < delta.length; i++) {
                delta[i] = random.nextDouble() < density ? delta[i] * scale : 0f;
            }
        }
    },

    /**
     * Model Breadcrumbs: drop the ⌊gamma·n⌋ entries of largest magnitude, then the smallest ones, so that
     * ⌊density·n⌋ remain (fewer large ones are dropped when both do not fit).
     */
    MAGNITUDE_OUTLIERS {
        @Override
        void apply(float[] delta, double density, double gamma, double epsilon, int columns, boolean rescale,
                RandomGenerator random) {
            if (density >= 1) {
                return;
            }
            int n = delta.length;
            int target = (int) (density * n);
            int top = (int) (gamma * n);
            int bottom = n - target - top;
            if (bottom < 0) {
                top += bottom;
                bottom = 0;
            }
            int from = bottom;
            int to = n - top;
            rescaleL1(delta, rescale, () -> MagnitudeRanks.keep(delta, from, to));
        }
    },

    /**
     * DELLA's MAGPRUNE (mergekit's della_magprune): within each row, entries are ranked by magnitude (1 for the
     * smallest; equal magnitudes by position) and each is kept with probability density − ε + 2ε·(rank − 1)/(n − 1),
     * so larger entries are likelier to stay (a row of one entry: density); with {@code rescale}, what remains is
     * scaled back to the delta's L1 norm. Draws one number per entry, in order, from {@code random}.
     */
    RANK_SAMPLED {
        @Override
        void apply(float[] delta, double density, double gamma, double epsilon, int columns, boolean rescale,
                RandomGenerator random) {
            if (density >= 1) {
                return;
            }
            rescaleL1(delta, rescale, () -> {
                long[] keys = new long[columns];
                double[] probability = new double[columns];
                for (int start = 0; start < delta.length; start += columns) {
                    // |x| as float bits orders like |x|; the position in the low bits breaks ties and is read back.
                    for (int j = 0; j < columns; j++) {
                        keys[j] = (long) Float.floatToIntBits(Math.abs(delta[start + j])) << 32 | j;
                    }
                    java.util.Arrays.sort(keys);
                    for (int rank = 0; rank < columns; rank++) {
                        double normalised = columns == 1 ? 0.5 : (double) rank / (columns - 1);
                        probability[(int) keys[rank]] = density - epsilon + normalised * 2 * epsilon;
                    }
                    for (int j = 0; j < columns; j++) {
                        if (random.nextDouble() >= probability[j]) {
                            delta[start + j] = 0f;
                        }
                    }
                }
            });
        }
    };

    /**
     * Thins {@code delta} in place.
     *
     * @param gamma   breadcrumbs' share of the largest entries dropped
     * @param epsilon DELLA's spread of keep probabilities around {@code density}
     * @param columns the length of the tensor's rows (its last dimension; the whole length for a vector)
     */
    abstract void apply(float[] delta, double density, double gamma, double epsilon, int columns, boolean rescale,
            RandomGenerator random);

    /**
     * Applies {@code mask} and, with {@code rescale}, scales what remains back to the delta's L1 norm
     * (mergekit's rescaled_masked_tensor; skipped when either norm is below 1e-7).
     */
    private static void rescaleL1(float[] delta, boolean rescale, Runnable mask) {
        if (!rescale) {
            mask.run();
            return;
        }
        double before = l1(delta);
        mask.run();
        double after = l1(delta);
        if (before < 1e-7 || after < 1e-7) {
            return;
        }
        float scale = (float) (before / after);
        for (int i = 0; i < delta.length; i++) {
            delta[i] *= scale;
        }
    }

    private static double l1(float[] values) {
        double sum = 0;
        for (float value : values) {
            sum += Math.abs(value);
        }
        return sum;
    }
}
