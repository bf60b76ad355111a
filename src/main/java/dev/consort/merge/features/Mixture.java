package dev.consort.merge.features;

import java.util.List;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import dev.consort.engine.Gpt2Model;

/**
 * How a routed model's blocks mix the MLPs of its members: one implementation per feature-space method
 * ({@link ActivationInterpolation}, {@link SingleRouter}, {@link LayerRouting}).
 */
public interface Mixture {

    /** The MLPs mixed at {@code layer}, in the order of the mixing weights. */
    List<ExpertMlp> expertsAt(int layer);

    /** The learned routers, in a fixed order (none for activation interpolation). */
    List<Router> routers();

    /** Hears the mixing weights of each layer as a pass computes them. */
    @FunctionalInterface
    interface WeightObserver {
        WeightObserver NONE = (layer, weights) -> {};

        /** @param weights {@code [B, T, E]} (per token) or {@code [E]} (the same for every token), in the pass's scope */
        void weights(int layer, NDArray weights);
    }

    /**
     * An override for the shared model's forward passes, one pass after another in one thread (a pass may
     * carry state from layer 0 to the later layers), telling {@code observer} each layer's weights.
     */
    Gpt2Model.MlpOverride newPass(WeightObserver observer);

    /**
     * Σₑ weightsₑ · MLPₑ(normed), computed in a scope of its own: the experts' intermediates ({@code [B, T, I]}
     * each) are freed when the block ends rather than when the forward pass's manager closes (autograd keeps
     * what the backward pass needs), and only the output joins {@code normed}'s manager.
     *
     * @param weights {@code [B, T, E]} (a weight per token and expert) or {@code [E]} (the same for every token)
     * @param normed  {@code [B, T, C]}
     * @return {@code [B, T, C]}
     */
    static NDArray mix(List<ExpertMlp> experts, NDArray weights, NDArray normed) {
        NDManager forwardScope = normed.getManager();
        try (NDManager block = forwardScope.newSubManager()) {
            // Lent to the block so that what is computed from them belongs to it; returned when it closes.
            block.tempAttachAll(normed, weights);
            NDArray mixed = null;
            for (int e = 0; e < experts.size(); e++) {
                NDArray weight = weights.get(new NDIndex("..., {}:{}", e, e + 1));                  // [B, T, 1] or [1]
                NDArray term = experts.get(e).apply(normed).mul(weight);                            // [B, T, C]
                mixed = mixed == null ? term : mixed.add(term);
            }
            mixed.attach(forwardScope);
            return mixed;
        }
    }
}
