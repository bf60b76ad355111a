package dev.consort.engine;

/**
 * The seeded random windows a training run draws from its tokens: each row is a window of
 * {@code context} inputs and the same window shifted by one as targets. The generator is SplitMix64,
 * whose whole state is one {@code long}, so a saved training state can carry it and a resumed run
 * draws the same windows it would have drawn.
 */
public final class TrainingWindows {

    private final TokenSequence tokens;
    private long state;

    public TrainingWindows(TokenSequence tokens, long seed) {
        this.tokens = tokens;
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
        long starts = tokens.length() - context;
        for (int row = 0; row < rows; row++) {
            long start = (next() >>> 1) % starts;
            tokens.copy(start, inputs, row * context, context);
            tokens.copy(start + 1, targets, row * context, context);
        }
    }

    private long next() {
        long z = state += 0x9E3779B97F4A7C15L;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
