package dev.consort.merge.features;

import java.util.Map;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;

/**
 * A learned gate: per token, a logit for each expert MLP. Its parameters are named as in the router file
 * ({@code router.layer.3.linear.weight}), laid out as PyTorch's {@code nn.Linear} ({@code [out, in]}).
 */
public interface Router {

    /**
     * @param x {@code [..., C]}
     * @return {@code [..., E]}, belonging to {@code x}'s manager
     */
    NDArray logits(NDArray x);

    /** Experts E this router scores. */
    int outputs();

    /** The live parameters by name, in a fixed order. */
    Map<String, NDArray> parameters();

    /**
     * The mixing weights of each token: softmax over the experts, or with {@code topK} in 1..E−1 only the
     * k largest weights kept and renormalised (the softmax of the k largest logits). Ties at the k-th value
     * keep every tied expert. Differentiable in the kept weights. Top-k changes the mixture, not the cost:
     * every expert's MLP is still computed for every token (dense batched matmuls are faster here than
     * gathering tokens per expert).
     *
     * @param topK 0 (or E) for dense weights
     * @return {@code [..., E]}, rows summing to 1
     */
    default NDArray weights(NDArray x, int topK) {
        NDArray probabilities = logits(x).softmax(-1);                                              // [..., E]
        int experts = outputs();
        if (topK <= 0 || topK >= experts) {
            return probabilities;
        }
        // The k-th largest weight of each row; the mask is a constant of the graph.
        NDArray threshold = probabilities.stopGradient().sort(-1)
                .get(new NDIndex("..., {}:{}", experts - topK, experts - topK + 1));               // [..., 1]
        NDArray kept = probabilities.mul(probabilities.gte(threshold).toType(DataType.FLOAT32, false)); // [..., E]
        return kept.div(kept.sum(new int[] {-1}, true));                                            // [..., E]
    }
}
