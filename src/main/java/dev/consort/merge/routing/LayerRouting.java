package dev.consort.merge.routing;

import java.util.ArrayList;
import java.util.List;

import ai.djl.ndarray.NDArray;

import dev.consort.engine.Gpt2Model;

/**
 * {@code layer_routing} (span 1) and {@code multi_layer_routing} (span L): a router per layer on
 * {@code ln_2(h)}, softmax (optionally top-k) over L·M experts, the MLPs of layers
 * {@code s … s+L−1} of each of the M members, where {@code s = max(0, min(i, n_layer − L))}: the window
 * starts at the layer itself, and near the top of the stack it slides down so that every layer has L
 * layers' MLPs (at the last layer of a 12-layer model with span 3: layers 9, 10, 11).
 *
 * <p>Expert order within a layer's weights: layer-major, {@code index = (j − s)·M + m} for layer j and member
 * m, so span 1 orders the experts as the members.
 */
final class LayerRouting implements Mixture {

    static final int MAX_SPAN = 4;

    private final List<Gpt2Model> members;
    private final int span;
    private final List<Router> routers;
    private final int topK;

    LayerRouting(List<Gpt2Model> members, int span, List<Router> routers, int topK) {
        this.members = List.copyOf(members);
        this.span = span;
        this.routers = List.copyOf(routers);
        this.topK = topK;
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
    public Gpt2Model.MlpOverride newPass() {
        return (layer, residual, normed) -> {
            NDArray weights = routers.get(layer).weights(normed, topK);                            // [B, T, L·M]
            return Mixture.mix(expertsAt(layer), weights, normed);
        };
    }
}
