package dev.consort.cka;

import java.util.ArrayList;
import java.util.List;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.jni.JniUtils;
import dev.consort.engine.Gpt2Model;
import dev.consort.engine.TokenSequence;

/**
 * CKA between the layers of one or two models on the same sample: the first {@code windows} windows of
 * {@code context} tokens go through every model a batch at a time, and each layer's representation (MLP
 * output or residual stream; per token or per-window mean) feeds one float64 {@link CkaAccumulator}, so
 * the result does not depend on the batch size. Representations are ordered A's layers, then B's. What
 * cka jobs and sweeps compute their similarities with.
 */
public final class LayerSimilarity {

    /**
     * @param residual the residual stream after each block, instead of each block's MLP output
     * @param mean     one row per window (its mean over positions), instead of one per token
     */
    public record Sample(int context, int windows, int batchSize, boolean residual, boolean mean) {

        /** Rows each representation gets: tokens, or windows with mean pooling. */
        public long rows() {
            return mean ? windows : (long) windows * context;
        }
    }

    /** Hears each batch as it is accumulated; may stop the computation between batches. */
    public interface Progress {
        /** Reports nothing and never stops. */
        Progress NONE = new Progress() {};

        /** Called before each batch; throw (e.g. a cancellation exception) to stop there. */
        default void checkStop() {}

        /** Called after each batch with the windows accumulated so far. */
        default void onBatch(int windowsDone, int windows) {}
    }

    private LayerSimilarity() {}

    /**
     * The similarity of every pair of layers of {@code a} and {@code b} (null for A alone): a square matrix
     * over A's layers then B's, with intra A, intra B and inter A × B as its {@link CkaMatrix#block blocks}.
     *
     * @param transformB applied to each of B's pooled representations first; null for none
     */
    public static CkaMatrix compute(Gpt2Model a, Gpt2Model b, TokenSequence tokens, Sample sample,
            CkaEstimator estimator, CkaFeatureHook transformB, Progress progress) {
        List<Integer> widths = new ArrayList<>();
        for (Gpt2Model model : b == null ? List.of(a) : List.of(a, b)) {
            for (int i = 0; i < model.config().nLayer(); i++) {
                widths.add(model.config().nEmbd());
            }
        }
        int context = sample.context();
        boolean gradMode = JniUtils.isGradMode();
        JniUtils.setGradMode(false);
        try (CkaAccumulator accumulator = new CkaAccumulator(a.manager(), widths)) {
            for (int first = 0; first < sample.windows(); first += sample.batchSize()) {
                progress.checkStop();
                int rows = Math.min(sample.batchSize(), sample.windows() - first);
                int[] ids = new int[rows * context];
                for (int row = 0; row < rows; row++) {
                    tokens.copy((long) (first + row) * context, ids, row * context, context);
                }
                try (NDManager scope = a.manager().newSubManager()) {
                    List<NDArray> representations = new ArrayList<>(representations(a, scope, ids, rows, sample));
                    if (b != null) {
                        List<NDArray> ofB = representations(b, scope, ids, rows, sample);
                        for (int layer = 0; layer < ofB.size(); layer++) {
                            representations.add(transformB == null ? ofB.get(layer)
                                    : transformB.modelB(layer, ofB.get(layer)));
                        }
                    }
                    accumulator.add(representations);
                }
                progress.onBatch(first + rows, sample.windows());
            }
            return accumulator.similarity(estimator);
        } finally {
            JniUtils.setGradMode(gradMode);
        }
    }

    /** Each layer's representation of the batch, pooled: [rows·T, C] per token or [rows, C] per window. */
    private static List<NDArray> representations(Gpt2Model model, NDManager scope, int[] ids, int rows,
            Sample sample) {
        NDArray tokens = scope.create(ids, new Shape(rows, sample.context()));                      // [B, T]
        NDArray[] captured = new NDArray[model.config().nLayer()];
        model.forward(tokens, (layer, mlpOutput, residualStream) ->
                captured[layer] = sample.residual() ? residualStream : mlpOutput, null);           // [B, T, C] each
        List<NDArray> pooled = new ArrayList<>();
        for (NDArray layer : captured) {
            pooled.add(sample.mean() ? layer.mean(new int[] {1})                                     // [B, C]
                    : layer.reshape(-1, layer.getShape().get(2)));                                   // [B·T, C]
        }
        return pooled;
    }
}
