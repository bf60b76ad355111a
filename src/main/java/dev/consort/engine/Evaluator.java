package dev.consort.engine;

import org.apache.commons.math3.stat.StatUtils;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.jni.JniUtils;

/**
 * The reproducible loss of a model on a token sequence (DESIGN, "Datasets"): for context T, window k
 * has inputs {@code s[kT, (k+1)T)} and targets {@code s[kT+1, (k+1)T+1)}, for k = 0, 1, ... while
 * {@code (k+1)T+1 <= length} and {@code k < maxWindows}; the loss is the mean cross-entropy over every
 * position of every window, with each window's own mean kept for intervals.
 *
 * <p>Runs with PyTorch's grad mode off in the calling thread (restored afterwards) and a sub-manager
 * per batch, so it may run in any thread, beside a training run in another one (on another model).
 */
public final class Evaluator {

    /**
     * @param loss         mean cross-entropy in nats per token
     * @param tokens       positions scored (windows × context)
     * @param windows      windows evaluated
     * @param windowLosses each window's mean cross-entropy, in window order: what paired comparisons between
     *                     models on the same windows, and the standard error, are computed from
     */
    public record Result(double loss, long tokens, int windows, double[] windowLosses) {

        /** The standard error of {@link #loss} over the windows (sample sd / √windows); NaN for one window. */
        public double standardError() {
            int n = windowLosses.length;
            return n < 2 ? Double.NaN : Math.sqrt(StatUtils.variance(windowLosses) / n);
        }
    }

    private Evaluator() {}

    /** How many windows a sequence of {@code length} tokens yields for {@code context}, at most {@code maxWindows}. */
    public static int windowCount(long length, int context, int maxWindows) {
        if (context < 1 || maxWindows < 0) {
            throw new IllegalArgumentException("context must be positive and maxWindows non-negative");
        }
        return (int) Math.max(0, Math.min(maxWindows, (length - 1) / context));
    }

    /**
     * Evaluates {@code model} on the deterministic windows of {@code tokens}, {@code batchSize} windows at a
     * time (the result does not depend on the batch size beyond float rounding).
     *
     * @throws IllegalArgumentException when the sequence is shorter than one window ({@code context + 1}
     *                                  tokens), the context exceeds n_positions, or a token is outside the
     *                                  model's vocabulary
     */
    public static Result evaluate(Gpt2Model model, TokenSequence tokens, int context, int maxWindows, int batchSize) {
        return evaluate(model, null, tokens, context, maxWindows, batchSize);
    }

    /**
     * As {@link #evaluate(Gpt2Model, TokenSequence, int, int, int)}, with every block's MLP replaced by
     * {@code mlpOverride} (a routed model: the shared model's forward mixing other models' MLPs). The
     * override is used for every batch, one batch after another in this thread.
     *
     * @param mlpOverride replaces the MLPs of {@code model}'s forward; null for the model's own
     */
    public static Result evaluate(Gpt2Model model, Gpt2Model.MlpOverride mlpOverride, TokenSequence tokens,
            int context, int maxWindows, int batchSize) {
        if (batchSize < 1) {
            throw new IllegalArgumentException("batchSize must be positive");
        }
        checkFits(model, tokens, context);
        int windows = windowCount(tokens.length(), context, maxWindows);
        if (windows == 0) {
            throw new IllegalArgumentException("an evaluation needs at least one window: " + (context + 1)
                    + " tokens for context " + context + ", the sequence has " + tokens.length());
        }
        boolean gradMode = JniUtils.isGradMode();
        JniUtils.setGradMode(false);
        try {
            double[] windowLosses = new double[windows];
            for (int first = 0; first < windows; first += batchSize) {
                int rows = Math.min(batchSize, windows - first);
                int[] inputs = new int[rows * context];
                int[] targets = new int[rows * context];
                for (int row = 0; row < rows; row++) {
                    long start = (long) (first + row) * context;
                    tokens.copy(start, inputs, row * context, context);
                    tokens.copy(start + 1, targets, row * context, context);
                }
                try (NDManager batch = model.manager().newSubManager()) {
                    NDArray x = batch.create(inputs, new Shape(rows, context));                     // [B, T]
                    NDArray y = batch.create(targets, new Shape(rows, context));                    // [B, T]
                    NDArray hidden = model.forward(x, null, mlpOverride);                          // [B, T, C]
                    float[] losses = model.crossEntropyOfEachPosition(hidden, y, Gpt2Model.LOSS_CHUNK_ROWS); // [B·T]
                    for (int row = 0; row < rows; row++) {
                        double windowSum = 0;
                        for (int t = 0; t < context; t++) {
                            windowSum += losses[row * context + t];
                        }
                        windowLosses[first + row] = windowSum / context;
                    }
                }
            }
            double sum = 0;
            for (double windowLoss : windowLosses) {
                sum += windowLoss;
            }
            return new Result(sum / windows, (long) windows * context, windows, windowLosses);
        } finally {
            JniUtils.setGradMode(gradMode);
        }
    }

    /** Checks that windows of {@code context} fit the model's positions and every token its vocabulary. */
    public static void checkFits(Gpt2Model model, TokenSequence tokens, int context) {
        Gpt2Config config = model.config();
        if (context < 1 || context > config.nPositions()) {
            throw new IllegalArgumentException("context " + context + " must be between 1 and n_positions ("
                    + config.nPositions() + ")");
        }
        if (tokens.maxToken() >= config.vocabSize()) {
            throw new IllegalArgumentException("token " + tokens.maxToken() + " is outside the model's vocabulary ("
                    + config.vocabSize() + " tokens)");
        }
    }
}
