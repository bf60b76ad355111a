package dev.consort.merge.features;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.consort.engine.Gpt2Config;
import dev.consort.engine.Gpt2Model;
import dev.consort.merge.weights.MergeProblem;

/**
 * {@code single_router}: one router reads each token once, at layer 0's MLP input, and its weights mix the
 * members' MLPs at every layer (expert e of layer i is member e's MLP of layer i).
 *
 * <p>The router's input is {@code ln_2(h)} of layer 0 of the shared model, the residual stream after the
 * first attention normalised exactly as the layer-0 MLPs see it: the raw residual's scale depends on the
 * embeddings, while the layer norm gives the router unit-scale features like every other router.
 */
final class SingleRouter extends RouterMethod {

    static final SingleRouter METHOD = new SingleRouter();
    static final String PREFIX = "router.single";

    private SingleRouter() {}

    @Override
    public String name() {
        return "single_router";
    }

    @Override
    RoutingSpec spec(RouterKind router, Map<String, Object> parameters, List<MergeProblem> problems) {
        return RoutingSpec.singleRouter(router);
    }

    @Override
    public Mixture mixture(RoutingSpec spec, List<Gpt2Model> members, Gpt2Config config, SplittableRandom random,
            NDManager manager) {
        Router router = spec.router().create(PREFIX, config.nEmbd(), members.size(), random, manager);
        return new Routed(members, router, spec.topK() == null ? 0 : spec.topK());
    }

    /** The mixture: one router's weights, from layer 0, for every layer. */
    private record Routed(List<Gpt2Model> members, Router router, int topK) implements Mixture {

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
        public Gpt2Model.MlpOverride newPass(WeightObserver observer) {
            return new Gpt2Model.MlpOverride() {
                /** Layer 0's weights of the current pass (every forward starts at layer 0 and replaces them). */
                private NDArray weights;

                @Override
                public NDArray mlp(int layer, NDArray residual, NDArray normed) {
                    if (layer == 0) {
                        weights = router.weights(normed, topK);                                        // [B, T, M]
                    }
                    observer.weights(layer, weights);
                    return Mixture.mix(expertsAt(layer), weights, normed);
                }
            };
        }
    }
}
