package dev.consort.merge.features;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import dev.consort.engine.Evaluator;
import dev.consort.engine.TrainingListener;
import dev.consort.merge.weights.MergeProblem;

/**
 * What the methods with learned routers share: the parameters {@code router} ({@code linear} or {@code mlp}),
 * {@code top_k} and {@code include_base}, their checks, and adaptation by {@link RouterFitting} on the
 * adaptation data. A subclass says how its routers mix the members ({@link #mixture}) and may add parameters.
 */
abstract class RouterMethod implements FeatureMergeMethod {

    @Override
    public Map<String, String> parameters() {
        Map<String, String> parameters = new LinkedHashMap<>();
        parameters.put("router", "linear (default) or mlp (Linear-GELU-Linear), both without biases");
        parameters.put("top_k", "keep each token's k largest weights and renormalise (default: dense)");
        parameters.put("include_base", "the base model's MLP is one more expert (needs base_checkpoint_id)");
        return parameters;
    }

    /** The spec of this method with the router kind and span read; the shared parameters are set afterwards. */
    abstract RoutingSpec spec(RouterKind router, Map<String, Object> parameters, List<MergeProblem> problems);

    @Override
    public final RoutingSpec spec(Map<String, Object> parameters, long seed, List<MergeProblem> problems) {
        Object router = parameters.getOrDefault("router", RouterKind.LINEAR.wireName());
        RouterKind kind;
        try {
            kind = RouterKind.fromWireName(String.valueOf(router));
        } catch (IllegalArgumentException e) {
            problems.add(new MergeProblem("parameters.router", e.getMessage()));
            return null;
        }
        Object includeBase = parameters.getOrDefault("include_base", false);
        if (!(includeBase instanceof Boolean)) {
            problems.add(new MergeProblem("parameters.include_base", "must be true or false, not " + includeBase));
            return null;
        }
        Integer topK = integer(parameters, "top_k", null, problems);
        RoutingSpec spec = spec(kind, parameters, problems);
        if (spec == null || (parameters.containsKey("top_k") && topK == null)) {
            return null;
        }
        try {
            return spec.withIncludeBase((Boolean) includeBase).withTopK(topK).withSeed(seed);
        } catch (IllegalArgumentException e) {
            problems.add(new MergeProblem("parameters.top_k", e.getMessage()));
            return null;
        }
    }

    /** An integer parameter, {@code fallback} when absent; null (with a problem) when it is not an integer. */
    static Integer integer(Map<String, Object> parameters, String name, Integer fallback, List<MergeProblem> problems) {
        Object value = parameters.get(name);
        if (value == null) {
            return fallback;
        }
        if (value instanceof Integer i) {
            return i;
        }
        problems.add(new MergeProblem("parameters." + name, "must be an integer, not " + value));
        return null;
    }

    /** Whether this method routes over windows of several layers (else its span must be 1). */
    boolean spansLayers() {
        return false;
    }

    @Override
    public List<MergeProblem> problems(RoutingSpec spec, Members members) {
        List<MergeProblem> problems = new ArrayList<>();
        if (spec.router() == null) {
            problems.add(new MergeProblem("parameters.router", name() + " needs a router kind"));
        }
        if (spec.alpha() != null || !spec.alphas().isEmpty()) {
            problems.add(new MergeProblem("parameters.alpha", "alpha applies to activation_interpolation only"));
        }
        if (!spansLayers() && spec.span() != 1) {
            problems.add(new MergeProblem("parameters.span", "span applies to multi_layer_routing only"));
        }
        if (spec.span() > members.nLayer()) {
            problems.add(new MergeProblem("parameters.span", "span " + spec.span() + " exceeds n_layer "
                    + members.nLayer()));
        }
        if (spec.includeBase() && !members.base()) {
            problems.add(new MergeProblem("parameters.include_base", "include_base needs a base model"));
        }
        int scored = spec.span() * (members.experts() + (spec.includeBase() ? 1 : 0));
        if (spec.topK() != null && spec.topK() > scored) {
            problems.add(new MergeProblem("parameters.top_k", "top_k " + spec.topK() + " exceeds the " + scored
                    + " experts of each router (span × models mixed)"));
        }
        return problems;
    }

    @Override
    public String adaptation(RoutingSpec spec) {
        return "fits its routers";
    }

    /** Fits the routers in place by the adaptation's router plan; the summary gets the fit's outcome. */
    @Override
    public RoutedModel adapt(RoutedModel routed, Adaptation data, Map<String, Object> summary)
            throws InterruptedException {
        RouterFitting.Result fit = RouterFitting.fit(routed, data.routerPlan(), data.train(), data.validation(),
                data.routerPatience(), new RouterFitListener() {
                    @Override
                    public void onStep(TrainingListener.Step step) {
                        data.loss("router_train", step.step(), step.tokens(), step.loss());
                    }

                    @Override
                    public void onValidation(int step, long tokens, Evaluator.Result result, boolean best) {
                        data.loss("router_validation", step, tokens, result.loss());
                    }

                    @Override
                    public void checkStop() {
                        data.checkStop();
                    }
                });
        Map<String, Object> outcome = new LinkedHashMap<>();
        outcome.put("steps", fit.steps());
        outcome.put("best_step", fit.bestStep());
        outcome.put("best_validation_loss", fit.bestValidationLoss());
        outcome.put("last_train_loss", fit.lastLoss());
        outcome.put("stopped_early", fit.stoppedEarly());
        summary.put("router_fit", outcome);
        return routed;
    }
}
