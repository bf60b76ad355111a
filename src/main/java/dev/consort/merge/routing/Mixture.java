package dev.consort.merge.routing;

import java.util.List;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.index.NDIndex;

import dev.consort.engine.Gpt2Model;

/**
 * How a routed model's blocks mix the MLPs of its members: one implementation per feature-space method
 * ({@link ActivationInterpolation}, {@link SingleRouter}, {@link LayerRouting}).
 */
interface Mixture {

    /** The MLPs mixed at {@code layer}, in the order of the mixing weights. */
    List<ExpertMlp> expertsAt(int layer);

    /** The learned routers, in a fixed order (none for activation interpolation). */
    List<Router> routers();

    /**
     * An override for the shared model's forward passes, one pass after another in one thread (a pass may
     * carry state from layer 0 to the later layers).
     */
    Gpt2Model.MlpOverride newPass();

    /**
     * Σₑ weightsₑ · MLPₑ(normed).
     *
     * @param weights {@code [B, T, E]} (one weight per token and expert)
     * @param normed  {@code [B, T, C]}
     * @return {@code [B, T, C]}
     */
    static NDArray mix(List<ExpertMlp> experts, NDArray weights, NDArray normed) {
        NDArray mixed = null;
        for (int e = 0; e < experts.size(); e++) {
            NDArray weight = weights.get(new NDIndex("..., {}:{}", e, e + 1));                      // [B, T, 1]
            NDArray term = experts.get(e).apply(normed).mul(weight);                                // [B, T, C]
            mixed = mixed == null ? term : mixed.add(term);
        }
        return mixed;
    }
}
