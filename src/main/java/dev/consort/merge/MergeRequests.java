package dev.consort.merge;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;

import dev.consort.merge.MergeSpec.MethodRequest;
import dev.consort.merge.routing.AlphaSearch;
import dev.consort.merge.routing.RouterKind;
import dev.consort.merge.routing.RoutingMethod;
import dev.consort.merge.routing.RoutingSpec;
import dev.consort.merge.weights.MergeProblem;
import dev.consort.merge.weights.WeightMergeMethod;
import dev.consort.merge.weights.WeightMergeMethods;
import dev.consort.merge.weights.WeightMergeRequest;
import dev.consort.web.ApiProblem.FieldError;

/**
 * Reads one entry of a merge job's methods into what the two libraries take: a mergekit-style
 * {@link WeightMergeRequest} for weight-space methods, a {@link RoutingSpec} (and α grid) for
 * feature-space ones. Problems name fields of the job spec ({@code methods[1].parameters.density}).
 */
final class MergeRequests {

    static final Set<String> ROUTING_METHODS = Set.of("activation_interpolation", "single_router", "layer_routing",
            "multi_layer_routing");
    private static final Map<String, Set<String>> ROUTING_PARAMETERS = Map.of(
            "activation_interpolation", Set.of("alpha", "alphas"),
            "single_router", Set.of("router", "top_k", "include_base"),
            "layer_routing", Set.of("router", "top_k", "include_base"),
            "multi_layer_routing", Set.of("router", "top_k", "include_base", "span"));

    private MergeRequests() {}

    static Set<String> methodNames() {
        Set<String> names = new TreeSet<>(WeightMergeMethods.names());
        names.addAll(ROUTING_METHODS);
        return names;
    }

    static boolean isRouting(String method) {
        return ROUTING_METHODS.contains(method);
    }

    /** Where the spec names request {@code index}: {@code methods[i].} or, for the single-method form, nothing. */
    static String prefix(MergeSpec spec, int index) {
        return spec.methods() != null && !spec.methods().isEmpty() ? "methods[" + index + "]." : "";
    }

    /**
     * The request in mergekit's terms: the experts as {@code models} (by id, with their per-expert
     * parameters), the base as {@code base_model} only for task-vector methods (the others merge the
     * experts themselves, t = 0 being the first).
     */
    static WeightMergeRequest weightRequest(MergeSpec spec, MethodRequest request, String prefix, List<FieldError> errors) {
        WeightMergeMethod method = WeightMergeMethods.byName(request.method()).orElseThrow();
        List<MergeProblem> problems = new ArrayList<>();
        List<Map<String, Object>> perModel = request.modelParameters() == null ? List.of() : request.modelParameters();
        if (perModel.size() > spec.expertIds().size()) {
            errors.add(new FieldError(prefix + "model_parameters", "has " + perModel.size() + " entries for "
                    + spec.expertIds().size() + " experts"));
        }
        List<WeightMergeRequest.ModelEntry> models = new ArrayList<>();
        for (int i = 0; i < spec.expertIds().size(); i++) {
            Map<String, Object> own = i < perModel.size() && perModel.get(i) != null ? perModel.get(i) : Map.of();
            models.add(new WeightMergeRequest.ModelEntry(spec.expertIds().get(i).toString(),
                    WeightMergeRequest.parameters(own, "models[" + i + "].parameters", problems)));
        }
        String base = method.baseModelRole() == WeightMergeMethod.BaseModelRole.ORIGIN && spec.baseCheckpointId() != null
                ? spec.baseCheckpointId().toString() : null;
        if (method.baseModelRole() == WeightMergeMethod.BaseModelRole.ORIGIN && base == null) {
            errors.add(new FieldError("base_checkpoint_id", request.method() + " merges task vectors: it needs the base"));
        }
        Map<String, Object> global = request.parameters() == null ? Map.of() : request.parameters();
        WeightMergeRequest merge = new WeightMergeRequest(request.method(), base, models,
                WeightMergeRequest.parameters(global, "parameters", problems));
        problems.forEach(p -> errors.add(specField(prefix, p)));
        return merge;
    }

    /** A library problem's field as a field of the job spec. */
    static FieldError specField(String prefix, MergeProblem problem) {
        String field = problem.field();
        if (field.startsWith("models[")) {
            field = "model_parameters[" + field.substring("models[".length()).replaceFirst("\\]\\.parameters", "]");
        } else if (field.equals("base_model")) {
            return new FieldError("base_checkpoint_id", problem.message());
        } else if (field.equals("merge_method")) {
            field = "method";
        }
        return new FieldError(prefix + field, problem.message());
    }

    /** The routed model a feature-space request asks for (for interpolation: α fixed, or the middle of the grid). */
    static RoutingSpec routingSpec(MergeSpec spec, MethodRequest request, String prefix, long seed,
            List<FieldError> errors) {
        Map<String, Object> parameters = request.parameters() == null ? Map.of() : request.parameters();
        Set<String> allowed = ROUTING_PARAMETERS.get(request.method());
        for (String name : parameters.keySet()) {
            if (!allowed.contains(name)) {
                errors.add(new FieldError(prefix + "parameters." + name, "not a parameter of " + request.method()
                        + "; it takes " + new TreeSet<>(allowed)));
            }
        }
        if (request.modelParameters() != null && !request.modelParameters().isEmpty()) {
            errors.add(new FieldError(prefix + "model_parameters", request.method() + " takes no per-expert parameters"));
        }
        try {
            RoutingMethod method = RoutingMethod.fromWireName(request.method());
            if (method == RoutingMethod.ACTIVATION_INTERPOLATION) {
                List<Double> grid = alphaGrid(parameters, prefix, errors);
                return RoutingSpec.activationInterpolation(grid.isEmpty() ? 0.5 : grid.get(0)).withSeed(seed);
            }
            RouterKind router = RouterKind.fromWireName(string(parameters, "router", "linear"));
            RoutingSpec routing = method == RoutingMethod.MULTI_LAYER_ROUTING
                    ? RoutingSpec.multiLayerRouting(router, integer(parameters, "span", 2, prefix, errors))
                    : method == RoutingMethod.SINGLE_ROUTER ? RoutingSpec.singleRouter(router)
                    : RoutingSpec.layerRouting(router);
            Object topK = parameters.get("top_k");
            return routing.withIncludeBase(Boolean.TRUE.equals(parameters.get("include_base")))
                    .withTopK(topK == null ? null : integer(parameters, "top_k", 1, prefix, errors))
                    .withSeed(seed);
        } catch (IllegalArgumentException e) {
            errors.add(new FieldError(prefix + "parameters", e.getMessage()));
            return null;
        }
    }

    /** The α values to try: {@code alpha} alone, {@code alphas}, or the default grid 0, 0.1, …, 1. */
    static List<Double> alphaGrid(Map<String, Object> parameters, String prefix, List<FieldError> errors) {
        if (parameters.get("alpha") instanceof Number alpha) {
            return List.of(alpha.doubleValue());
        }
        if (parameters.containsKey("alpha")) {
            errors.add(new FieldError(prefix + "parameters.alpha", "must be a number in [0, 1]"));
            return List.of();
        }
        Object alphas = parameters.get("alphas");
        if (alphas == null) {
            return AlphaSearch.DEFAULT_GRID;
        }
        List<Double> grid = new ArrayList<>();
        if (alphas instanceof List<?> values && !values.isEmpty() && values.size() <= 101) {
            for (Object value : values) {
                if (value instanceof Number n && n.doubleValue() >= 0 && n.doubleValue() <= 1) {
                    grid.add(n.doubleValue());
                } else {
                    errors.add(new FieldError(prefix + "parameters.alphas", "every α must be a number in [0, 1], not " + value));
                    return List.of();
                }
            }
            return grid;
        }
        errors.add(new FieldError(prefix + "parameters.alphas", "must be a list of 1 to 101 numbers in [0, 1]"));
        return List.of();
    }

    private static String string(Map<String, Object> parameters, String name, String fallback) {
        Object value = parameters.get(name);
        return value == null ? fallback : value.toString();
    }

    private static int integer(Map<String, Object> parameters, String name, int fallback, String prefix,
            List<FieldError> errors) {
        Object value = parameters.get(name);
        if (value == null) {
            return fallback;
        }
        if (value instanceof Integer i) {
            return i;
        }
        errors.add(new FieldError(prefix + "parameters." + name, "must be an integer, not " + value));
        return fallback;
    }

    /** The request as plain values for the results table. */
    static Map<String, Object> describe(MethodRequest request) {
        Map<String, Object> description = new LinkedHashMap<>();
        if (request.parameters() != null) {
            description.putAll(request.parameters());
        }
        if (request.modelParameters() != null && !request.modelParameters().isEmpty()) {
            description.put("model_parameters", request.modelParameters());
        }
        return description;
    }

    static UUID shared(MergeSpec spec) {
        return spec.baseCheckpointId() != null ? spec.baseCheckpointId() : spec.expertIds().get(0);
    }
}
