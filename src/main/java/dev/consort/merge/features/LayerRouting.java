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
 * {@code layer_routing}: a router per layer on {@code ln_2(h)}, softmax (optionally top-k) over the members'
 * MLPs of that layer. {@link MultiLayerRouting} widens each router's window to span L layers, with the same
 * mixture: a router per layer on
 * {@code ln_2(h)}, softmax (optionally top-k) over L·M experts, the MLPs of layers
 * {@code s … s+L−1} of each of the M members, where {@code s = max(0, min(i, n_layer − L))}: the window
 * starts at the layer itself, and near the top of the stack it slides down so that every layer has L
 * layers' MLPs (at the last layer of a 12-layer model with span 3: layers 9, 10, 11).
 *
 * <p>Expert order within a layer's weights: layer-major, {@code index = (j − s)·M + m} for layer j and member
 * m, so span 1 orders the experts as the members.
 */
class LayerRouting extends RouterMethod {

    static final LayerRouting METHOD = new LayerRouting();
    static final int MAX_SPAN = 4;

    LayerRouting() {}

    @Override
    public String name() {
        return "layer_routing";
    }

    @Override
    RoutingSpec spec(RouterKind router, Map<String, Object> parameters, List<MergeProblem> problems) {
        return RoutingSpec.layerRouting(router);
    }

    @Override
    public final Mixture mixture(RoutingSpec spec, List<Gpt2Model> members, Gpt2Config config,
            SplittableRandom random, NDManager manager) {
        int outputs = spec.span() * members.size();
        List<Router> routers = new ArrayList<>();
        for (int layer = 0; layer < config.nLayer(); layer++) {
            routers.add(spec.router().create(prefix(layer), config.nEmbd(), outputs, random, manager));
        }
        return new Routed(members, spec.span(), routers, spec.topK() == null ? 0 : spec.topK());
    }

    /** The router name of {@code layer}. */
    static String prefix(int layer) {
        return "router.layer." + layer;
    }

    /** The first layer of layer {@code layer}'s window of {@code span} layers in a stack of {@code layers}. */
    static int windowStart(int layer, int span, int layers) {
        if (span < 1 || span > layers || layer < 0 || layer >= layers) {
            throw new IllegalArgumentException("no window of span " + span + " at layer " + layer + " of " + layers);
        }
        return Math.max(0, Math.min(layer, layers - span));
    }

    /** The mixture: each layer's router weighs the MLPs of its window of layers of every member. */
    private record Routed(List<Gpt2Model> members, int span, List<Router> routers, int topK) implements Mixture {

        @Override
        public List<ExpertMlp> expertsAt(int layer) {
            int start = windowStart(layer, span, routers.size());
            List<ExpertMlp> experts = new ArrayList<>();
            for (int j = start; j < start + span; j++) {
                for (int m = 0; m < members.size(); m++) {
                    experts.add(new ExpertMlp(m, j, members.get(m)));
                }
            }
            return experts;
        }

        @Override
        public List<Router> routers() {
            return routers;
        }

        @Override
        public Gpt2Model.MlpOverride newPass(WeightObserver observer) {
            return (layer, residual, normed) -> {
                NDArray weights = routers.get(layer).weights(normed, topK);                            // [B, T, L·M]
                observer.weights(layer, weights);
                return Mixture.mix(expertsAt(layer), weights, normed);
            };
        }
    }
}
