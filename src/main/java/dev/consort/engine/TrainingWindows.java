package dev.consort.engine;

import java.util.List;

/**
 * The seeded random windows a training run draws from its tokens: each row is a window of
 * {@code context} inputs and the same window shifted by one as targets. The generator is SplitMix64,
 * whose whole state is one {@code long}, so a saved training state can carry it and a resumed run
 * draws the same windows it would have drawn. A mixture of sources (DataMix) first draws each row's
 * source by its weight, then the window in it; one source draws exactly as it always has.
 */
public final class TrainingWindows {

    private final List<TokenSequence> sources;
    private final double[] cumulative;
    private long state;

    public TrainingWindows(TokenSequence tokens, long seed) {
        this(List.of(tokens), new double[] {1}, seed);
    }

    /** Windows from {@code sources}, each row from source i with probability weights[i] / Σ weights. */
    public TrainingWindows(List<TokenSequence> sources, double[] weights, long seed) {
        if (sources.isEmpty() || sources.size() != weights.length) {
            throw new IllegalArgumentException("give one weight per source, " + sources.size() + " sources");
        }
        this.sources = List.copyOf(sources);
        this.cumulative = new double[weights.length];
        double total = 0;
        for (double weight : weights) {
            if (!(weight > 0) || !Double.isFinite(weight)) {
                throw new IllegalArgumentException("mixture weights must be positive, not " + weight);
            }
            total += weight;
        }
        double running = 0;
        for (int i = 0; i < weights.length; i++) {
            running += weights[i] / total;
            cumulative[i] = running;
        }
        this.state = seed;
    }

    /** The generator's state, to save. */
    public long state() {
        return state;
    }

    /** Continues from a saved {@link #state()}. */
    public void restore(long saved) {
        state = saved;
    }

    /** Fills {@code inputs} and {@code targets} (each {@code rows × context}) with random windows. */
    public void sample(int rows, int context, int[] inputs, int[] targets) {
        for (int row = 0; row < rows; row++) {
            TokenSequence tokens = sources.size() == 1 ? sources.get(0) : sources.get(source());
            long start = (next() >>> 1) % (tokens.length() - context);
            tokens.copy(start, inputs, row * context, context);
            tokens.copy(start + 1, targets, row * context, context);
        }
    }

    /** The source of the next row, by the cumulative weights. */
    private int source() {
        double u = (next() >>> 11) * 0x1.0p-53;
        for (int i = 0; i < cumulative.length - 1; i++) {
            if (u < cumulative[i]) {
                return i;
            }
        }
        return cumulative.length - 1;
    }

    private long next() {
        long z = state += 0x9E3779B97F4A7C15L;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
