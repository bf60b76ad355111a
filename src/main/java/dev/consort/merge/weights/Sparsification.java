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
        void apply(float[] delta, double density, double gamma, boolean rescale, RandomGenerator random) {
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
        void apply(float[] delta, double density, double gamma, boolean rescale, RandomGenerator random) {
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
        void apply(float[] delta, double density, double gamma, boolean rescale, RandomGenerator random) {
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
    };

    abstract void apply(float[] delta, double density, double gamma, boolean rescale, RandomGenerator random);

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
