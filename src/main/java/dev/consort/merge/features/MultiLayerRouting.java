package dev.consort.merge.features;

import java.util.List;
import java.util.Map;

import dev.consort.merge.weights.MergeProblem;

/**
 * {@code multi_layer_routing}: {@link LayerRouting} whose router at layer i weighs the MLPs of a window of
 * {@code span} layers (default 2, at most {@value LayerRouting#MAX_SPAN}) of every member.
 */
final class MultiLayerRouting extends LayerRouting {

    static final MultiLayerRouting METHOD = new MultiLayerRouting();

    private MultiLayerRouting() {}

    @Override
    public String name() {
        return "multi_layer_routing";
    }

    @Override
    public Map<String, String> parameters() {
        Map<String, String> parameters = super.parameters();
        parameters.put("span", "layers each router mixes, 1 to " + MAX_SPAN + " (default 2)");
        return parameters;
    }

    @Override
    RoutingSpec spec(RouterKind router, Map<String, Object> parameters, List<MergeProblem> problems) {
        Integer span = integer(parameters, "span", 2, problems);
        if (span == null) {
            return null;
        }
        try {
            return RoutingSpec.multiLayerRouting(router, span);
        } catch (IllegalArgumentException e) {
            problems.add(new MergeProblem("parameters.span", e.getMessage()));
            return null;
        }
    }

    @Override
    boolean spansLayers() {
        return true;
    }
}
