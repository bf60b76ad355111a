package dev.consort.merge.routing;

import java.util.ArrayList;
import java.util.List;

import ai.djl.ndarray.NDArray;

import dev.consort.engine.Gpt2Model;

/**
 * {@code single_router}: one router reads each token once, at layer 0's MLP input, and its weights mix the
 * members' MLPs at every layer (expert e of layer i is member e's MLP of layer i).
 *
 * <p>The router's input is {@code ln_2(h)} of layer 0 of the shared model, the residual stream after the
 * first attention normalised exactly as the layer-0 MLPs see it: the raw residual's scale depends on the
 * embeddings, while the layer norm gives the router unit-scale features like every other router.
 */
final class SingleRouter implements Mixture {

    static final String PREFIX = "router.single";

    private final List<Gpt2Model> members;
    private final Router router;
    private final int topK;

    SingleRouter(List<Gpt2Model> members, Router router, int topK) {
        this.members = List.copyOf(members);
        this.router = router;
        this.topK = topK;
    }

    @Override
    public List<ExpertMlp> expertsAt(int layer) {
        List<ExpertMlp> experts = new ArrayList<>();
        for (int m = 0; m < members.size(); m++) {
            experts.add(new ExpertMlp(m, layer, members.get(m)));
        }
        return experts;
    }

    @Override
    public List<Router> routers() {
        return List.of(router);
    }

    @Override
    public Gpt2Model.MlpOverride newPass() {
        return new Gpt2Model.MlpOverride() {
            /** Layer 0's weights of the current pass (every forward starts at layer 0 and replaces them). */
            private NDArray weights;

            @Override
            public NDArray mlp(int layer, NDArray residual, NDArray normed) {
                if (layer == 0) {
                    weights = router.weights(normed, topK);                                        // [B, T, M]
                }
                return Mixture.mix(expertsAt(layer), weights, normed);
            }
        };
    }
}
