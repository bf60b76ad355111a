package dev.consort.merge.weights;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.stream.Collectors;

import dev.consort.engine.Gpt2Config;
import dev.consort.engine.Gpt2TensorLayout;
import dev.consort.merge.weights.ParameterSpec.Scope;
import dev.consort.merge.weights.WeightMergeMethod.BaseModelRole;

/**
 * A validated weight-space merge: the method, the base model reference (null for methods that use none),
 * the models merged in order (for slerp, the t = 0 end first), and the parameter settings, with every
 * value kind and range checked. {@link #parametersFor} resolves the parameters of one tensor as mergekit
 * does: a model's own setting, else the top-level one, else the method's default; filters match the
 * tensor's mergekit name ({@code transformer.h.3.mlp.c_fc.weight}); gradients interpolate over the layers.
 */
public final class MergeRecipe {

    /** A model to merge: its reference, the request field that names it ({@code models[2]}), its own settings. */
    public record Model(String model, String field, Map<String, ParameterSetting> parameters) {}

    private final WeightMergeRequest request;
    private final WeightMergeMethod method;
    private final String baseModel;
    private final List<Model> models;

    private MergeRecipe(WeightMergeRequest request, WeightMergeMethod method, String baseModel, List<Model> models) {
        this.request = request;
        this.method = method;
        this.baseModel = baseModel;
        this.models = List.copyOf(models);
    }

    /** Validates a request: the method exists, the models fit it, and every parameter is known, of its kind and in range. */
    public static MergeRecipe of(WeightMergeRequest request) throws InvalidMergeException {
        if (request.method() == null || request.method().isBlank()) {
            throw new InvalidMergeException("merge_method", "missing; one of " + WeightMergeMethods.names());
        }
        WeightMergeMethod method = WeightMergeMethods.byName(request.method()).orElseThrow(() ->
                new InvalidMergeException("merge_method", "unknown method \"" + request.method()
                        + "\"; the weight-space methods are " + WeightMergeMethods.names()));
        List<MergeProblem> problems = new ArrayList<>();
        String base = request.baseModel();
        if (base != null && base.isBlank()) {
            problems.add(new MergeProblem("base_model", "must name a model, or be left out"));
            base = null;
        }
        List<Model> models = models(request, method, base, problems);
        checkParameters(request, method, models, problems);
        if (request.outDtype() != null && !WeightMergeRequest.OUT_DTYPES.contains(request.outDtype())) {
            problems.add(new MergeProblem("out_dtype", "must be one of " + WeightMergeRequest.OUT_DTYPES.stream()
                    .sorted().toList()));
        }
        if (request.layers() != null && request.layers() < 1) {
            problems.add(new MergeProblem("slices", "layer_range must cover at least one layer"));
        }
        if (!problems.isEmpty()) {
            throw new InvalidMergeException(problems);
        }
        return new MergeRecipe(request, method, method.baseModelRole() == BaseModelRole.ORIGIN ? base : null, models);
    }

    /** The dtype the merged weights are written in: F32 unless the request asked for float16 or bfloat16. */
    public dev.consort.safetensors.DType outputDtype() {
        String dtype = request.outDtype();
        return "float16".equals(dtype) ? dev.consort.safetensors.DType.F16
                : "bfloat16".equals(dtype) ? dev.consort.safetensors.DType.BF16 : dev.consort.safetensors.DType.F32;
    }

    public WeightMergeMethod method() {
        return method;
    }

    /** The base model's reference, for methods that merge task vectors; null otherwise. */
    public String baseModel() {
        return baseModel;
    }

    public List<Model> models() {
        return models;
    }

    public WeightMergeRequest request() {
        return request;
    }

    /**
     * Checks the recipe against the architecture of the models: the layer count a {@code slices} config
     * implies, and that every tensor's parameters resolve (a filtered setting may match no tensor, leaving
     * a required parameter without a value) and pass the method's own checks.
     */
    public List<MergeProblem> check(Gpt2Config config) {
        List<MergeProblem> problems = new ArrayList<>();
        if (request.layers() != null && request.layers() != config.nLayer()) {
            problems.add(new MergeProblem("slices", "layer_range covers " + request.layers()
                    + " layers but the models have " + config.nLayer() + "; only slices spanning whole models are supported"));
        }
        for (String tensor : Gpt2TensorLayout.expected(config).keySet()) {
            TensorParameters parameters = resolve(tensor, layerOf(tensor), config.nLayer(), problems);
            if (parameters != null) {
                method.check(tensor, parameters, problems);
            }
            if (problems.size() >= 20) {
                break;
            }
        }
        return problems.stream().distinct().toList();
    }

    /** The parameters for one tensor; throws if a required one has no value for it ({@link #check} finds that first). */
    public TensorParameters parametersFor(String tensor, int layer, int layerCount) throws InvalidMergeException {
        List<MergeProblem> problems = new ArrayList<>();
        TensorParameters parameters = resolve(tensor, layer, layerCount, problems);
        if (parameters == null) {
            throw new InvalidMergeException(problems);
        }
        return parameters;
    }

    /** The layer index of a bare HF tensor name ({@code h.3.attn.c_attn.weight} is 3), or -1 outside the blocks. */
    public static int layerOf(String tensor) {
        if (!tensor.startsWith("h.")) {
            return -1;
        }
        int dot = tensor.indexOf('.', 2);
        return dot < 0 ? -1 : Integer.parseInt(tensor.substring(2, dot));
    }

    /** What the merge was, as plain values: the request in mergekit's layout. */
    public Map<String, Object> describe() {
        return request.describe();
    }

    private TensorParameters resolve(String tensor, int layer, int layerCount, List<MergeProblem> problems) {
        // mergekit names GPT-2's tensors with the transformer. prefix (lm_head.weight without), and plans the
        // embeddings and the final norm at t = 0, layer i at i / (n_layer - 1), a single layer at 1.
        String mergekitName = tensor.equals(Gpt2TensorLayout.LM_HEAD) ? tensor : Gpt2TensorLayout.PREFIX + tensor;
        double t = layer < 0 ? 0 : layerCount > 1 ? (double) layer / (layerCount - 1) : 1;
        int before = problems.size();
        Map<String, Object> global = new LinkedHashMap<>();
        List<Map<String, Object>> perModel = new ArrayList<>();
        models.forEach(m -> perModel.add(new LinkedHashMap<>()));
        for (ParameterSpec spec : method.parameters()) {
            if (spec.scope() == Scope.GLOBAL) {
                Object value = orDefault(spec, evaluate(spec, mergekitName, t, request.parameters().get(spec.name())));
                if (value == null) {
                    problems.add(unresolved("parameters." + spec.name(), tensor));
                } else {
                    global.put(spec.name(), value);
                }
                continue;
            }
            for (int i = 0; i < models.size(); i++) {
                Model model = models.get(i);
                Object value = evaluate(spec, mergekitName, t, model.parameters().get(spec.name()));
                if (value == null) {
                    value = orDefault(spec, evaluate(spec, mergekitName, t, request.parameters().get(spec.name())));
                }
                if (value == null) {
                    problems.add(unresolved(model.field() + ".parameters." + spec.name(), tensor));
                } else {
                    perModel.get(i).put(spec.name(), value);
                }
            }
        }
        return problems.size() == before ? new TensorParameters(global, perModel) : null;
    }

    /** The setting's value for the tensor; null when there is no setting or none of its filters matches. */
    private static Object evaluate(ParameterSpec spec, String mergekitName, double t, ParameterSetting setting) {
        Object value = setting == null ? null : setting.evaluate(mergekitName, t);
        return value == null ? null : spec.asKind(value);
    }

    private static Object orDefault(ParameterSpec spec, Object value) {
        return value != null ? value : spec.defaultValue();
    }

    private static MergeProblem unresolved(String field, String tensor) {
        return new MergeProblem(field, "has no value for tensor " + tensor
                + ": none of its filters matches it and there is no default; add an entry without a filter");
    }

    private static List<Model> models(WeightMergeRequest request, WeightMergeMethod method, String base,
            List<MergeProblem> problems) {
        List<WeightMergeRequest.ModelEntry> entries = request.models();
        Set<String> seen = new HashSet<>();
        List<Model> models = new ArrayList<>();
        boolean baseListed = false;
        for (int i = 0; i < entries.size(); i++) {
            WeightMergeRequest.ModelEntry entry = entries.get(i);
            String field = "models[" + i + "]";
            if (entry.model() == null || entry.model().isBlank()) {
                problems.add(new MergeProblem(field + ".model", "missing: each entry names a model"));
                continue;
            }
            if (!seen.add(entry.model())) {
                problems.add(new MergeProblem(field + ".model", "lists " + entry.model() + " again; each model appears once"));
                continue;
            }
            Model model = new Model(entry.model(), field, entry.parameters());
            if (!entry.model().equals(base)) {
                models.add(model);
                continue;
            }
            baseListed = true;
            switch (method.baseModelRole()) {
                case ORIGIN -> {
                    if (!entry.parameters().isEmpty()) {
                        problems.add(new MergeProblem(field + ".parameters", "the base model takes no parameters in "
                                + method.name() + " (its task vector is zero); remove them"));
                    }
                }
                case FIRST_MODEL -> models.add(0, model);
                case NONE -> models.add(model);
            }
        }
        switch (method.baseModelRole()) {
            case ORIGIN -> {
                if (base == null) {
                    problems.add(new MergeProblem("base_model", "required: " + method.name()
                            + " merges the models' differences from a base model"));
                }
            }
            case FIRST_MODEL -> {
                if (base != null && !baseListed) {
                    models.add(0, new Model(base, "base_model", Map.of()));
                }
            }
            case NONE -> {
                if (base != null && !baseListed) {
                    problems.add(new MergeProblem("base_model", method.name() + " merges the listed models only;"
                            + " list " + base + " under models with a weight, or leave base_model out"));
                }
            }
        }
        if (models.size() < method.minModels() || models.size() > method.maxModels()) {
            problems.add(new MergeProblem("models", method.name() + " merges " + count(method) + " models"
                    + (method.baseModelRole() == BaseModelRole.ORIGIN ? " besides the base" : "")
                    + (method.baseModelRole() == BaseModelRole.FIRST_MODEL ? " (base_model, when given, is the first)" : "")
                    + "; got " + models.size()));
        }
        return models;
    }

    private static String count(WeightMergeMethod method) {
        if (method.minModels() == method.maxModels()) {
            return "exactly " + method.minModels();
        }
        return method.maxModels() == Integer.MAX_VALUE ? "at least " + method.minModels()
                : method.minModels() + " to " + method.maxModels();
    }

    private static void checkParameters(WeightMergeRequest request, WeightMergeMethod method, List<Model> models,
            List<MergeProblem> problems) {
        Map<String, ParameterSpec> specs = method.parameters().stream()
                .collect(Collectors.toMap(ParameterSpec::name, s -> s, (a, b) -> a, LinkedHashMap::new));
        String known = specs.isEmpty() ? "it takes no parameters" : "its parameters are " + specs.keySet();
        request.parameters().forEach((name, setting) -> {
            ParameterSpec spec = specs.get(name);
            if (spec == null) {
                problems.add(new MergeProblem("parameters." + name, "not a parameter of " + method.name() + "; " + known));
            } else {
                spec.check(setting, "parameters." + name, problems);
            }
        });
        for (Model model : models) {
            model.parameters().forEach((name, setting) -> {
                String field = model.field() + ".parameters." + name;
                ParameterSpec spec = specs.get(name);
                if (spec == null) {
                    problems.add(new MergeProblem(field, "not a parameter of " + method.name() + "; " + known));
                } else if (spec.scope() == Scope.GLOBAL) {
                    problems.add(new MergeProblem(field, "is set once for the whole merge: put it under the top-level parameters"));
                } else {
                    spec.check(setting, field, problems);
                }
            });
        }
        for (ParameterSpec spec : specs.values()) {
            if (!spec.required() || request.parameters().containsKey(spec.name())) {
                continue;
            }
            if (spec.scope() == Scope.GLOBAL) {
                problems.add(new MergeProblem("parameters." + spec.name(), "required by " + method.name()));
                continue;
            }
            for (Model model : models) {
                if (!model.parameters().containsKey(spec.name())) {
                    problems.add(new MergeProblem(model.field() + ".parameters." + spec.name(), "required by "
                            + method.name() + " (set it here, or once under the top-level parameters for every model)"));
                }
            }
        }
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof MergeRecipe r && request.equals(r.request);
    }

    @Override
    public int hashCode() {
        return Objects.hash(request);
    }
}
