package dev.consort.merge.features;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.consort.engine.Gpt2Config;
import dev.consort.engine.Gpt2Model;
import dev.consort.merge.weights.MergeProblem;

/**
 * {@code activation_interpolation}: at every layer MLP(h) = α·MLP_A(h) + (1−α)·MLP_B(h), the same α for every
 * token. Nothing is learned: α is given ({@code alpha}), or {@link AlphaSearch} picks it from a grid
 * ({@code alphas}, by default 0, 0.1, …, 1) on the adaptation data.
 */
final class ActivationInterpolation implements FeatureMergeMethod {

    static final ActivationInterpolation METHOD = new ActivationInterpolation();

    /** The most α values one search evaluates. */
    static final int MAX_GRID = 101;

    private ActivationInterpolation() {}

    @Override
    public String name() {
        return "activation_interpolation";
    }

    @Override
    public Map<String, String> parameters() {
        Map<String, String> parameters = new LinkedHashMap<>();
        parameters.put("alpha", "expert A's weight in [0, 1]; fixed, nothing searched");
        parameters.put("alphas", "the α values to search on the adaptation data (default 0, 0.1, …, 1)");
        return parameters;
    }

    @Override
    public RoutingSpec spec(Map<String, Object> parameters, long seed, List<MergeProblem> problems) {
        if (parameters.containsKey("alpha")) {
            if (parameters.containsKey("alphas")) {
                problems.add(new MergeProblem("parameters.alphas", "give alpha (fixed) or alphas (searched), not both"));
                return null;
            }
            if (!(parameters.get("alpha") instanceof Number alpha) || !inUnitInterval(alpha.doubleValue())) {
                problems.add(new MergeProblem("parameters.alpha", "must be a number in [0, 1]"));
                return null;
            }
            return RoutingSpec.activationInterpolation(alpha.doubleValue()).withSeed(seed);
        }
        Object alphas = parameters.get("alphas");
        if (alphas == null) {
            return search(AlphaSearch.DEFAULT_GRID, seed);
        }
        List<Double> grid = new ArrayList<>();
        if (!(alphas instanceof List<?> values) || values.isEmpty() || values.size() > MAX_GRID) {
            problems.add(new MergeProblem("parameters.alphas", "must be a list of 1 to " + MAX_GRID + " numbers in [0, 1]"));
            return null;
        }
        for (Object value : values) {
            if (!(value instanceof Number n) || !inUnitInterval(n.doubleValue())) {
                problems.add(new MergeProblem("parameters.alphas", "every α must be a number in [0, 1], not " + value));
                return null;
            }
            grid.add(n.doubleValue());
        }
        return grid.size() == 1 ? RoutingSpec.activationInterpolation(grid.get(0)).withSeed(seed) : search(grid, seed);
    }

    private static boolean inUnitInterval(double value) {
        return value >= 0 && value <= 1;
    }

    /** A spec that searches {@code grid}; α starts at the grid's first value. */
    private static RoutingSpec search(List<Double> grid, long seed) {
        return new RoutingSpec(METHOD, null, false, 1, null, grid.get(0), grid, seed);
    }

    @Override
    public List<MergeProblem> problems(RoutingSpec spec, Members members) {
        List<MergeProblem> problems = new ArrayList<>();
        if (spec.alpha() == null) {
            problems.add(new MergeProblem("parameters.alpha", "activation_interpolation needs alpha"));
        }
        if (spec.router() != null || spec.includeBase() || spec.topK() != null || spec.span() != 1) {
            problems.add(new MergeProblem("parameters", "activation_interpolation has no router, include_base, "
                    + "top_k or span"));
        }
        if (members.experts() != 2) {
            problems.add(new MergeProblem("experts", "activation_interpolation mixes exactly two experts, not "
                    + members.experts()));
        }
        return problems;
    }

    @Override
    public String adaptation(RoutingSpec spec) {
        return spec.alphas().size() > 1 ? "searches α" : null;
    }

    @Override
    public Mixture mixture(RoutingSpec spec, List<Gpt2Model> members, Gpt2Config config, SplittableRandom random,
            NDManager manager) {
        return new Interpolation(members.get(0), members.get(1), spec.alpha().floatValue());
    }

    /**
     * With α to search: scores every α of the grid and keeps the best as a new model, the curve going into the
     * summary. The summary's {@code alpha} is the α used.
     */
    @Override
    public RoutedModel adapt(RoutedModel routed, Adaptation data, Map<String, Object> summary) {
        if (adaptation(routed.spec()) == null) {
            summary.put("alpha", routed.spec().alpha());
            return routed;
        }
        AlphaSearch.Result search = AlphaSearch.search(routed.base(), routed.experts().get(0), routed.experts().get(1),
                routed.spec().alphas(), data.scoring(), data.context(data.scoring()), data.maxWindows(),
                data.batchSize(), new AlphaSearch.Listener() {
                    @Override
                    public void onPoint(AlphaSearch.Point point, int index, int points) {
                        data.loss("alpha", index, Math.round(point.alpha() * 1000), point.result().loss());
                    }

                    @Override
                    public void checkStop() {
                        data.checkStop();
                    }
                });
        List<Map<String, Object>> curve = new ArrayList<>();
        search.curve().forEach(p -> curve.add(Map.of("alpha", p.alpha(), "loss", p.result().loss())));
        summary.put("alpha_curve", curve);
        RoutingSpec best = routed.spec().withAlpha(search.best().alpha());
        summary.put("alpha", best.alpha());
        RoutedModel chosen = RoutedModel.create(best, routed.base(), routed.experts());
        routed.close();
        return chosen;
    }

    /** The mixture: the same two weights for every token at every layer. */
    private record Interpolation(Gpt2Model expertA, Gpt2Model expertB, float alpha) implements Mixture {

        @Override
        public List<ExpertMlp> expertsAt(int layer) {
            return List.of(new ExpertMlp(0, layer, expertA), new ExpertMlp(1, layer, expertB));
        }

        @Override
        public List<Router> routers() {
            return List.of();
        }

        @Override
        public Gpt2Model.MlpOverride newPass(WeightObserver observer) {
            return (layer, residual, normed) -> {
                // In memory PyTorch owns: DJL's Java-buffer operands may be freed while a graph still needs them.
                NDArray weights;
                try (NDArray values = normed.getManager().create(new float[] {alpha, 1 - alpha})) {
                    weights = values.duplicate();                                                   // [2]
                }
                observer.weights(layer, weights);
                return Mixture.mix(expertsAt(layer), weights, normed);
            };
        }
    }
}
