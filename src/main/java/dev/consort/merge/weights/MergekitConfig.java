package dev.consort.merge.weights;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.error.YAMLException;

/**
 * Reads a mergekit YAML config into a {@link WeightMergeRequest}. Understood: {@code merge_method},
 * {@code base_model}, {@code models} (each {@code model} and {@code parameters}), top-level
 * {@code parameters} (numbers, flags, gradients over layers, {@code filter}/{@code value} lists),
 * {@code dtype} and {@code out_dtype}, and {@code slices} when it is one slice whose sources all span the
 * same whole-model {@code layer_range} (the same as {@code models}). Consort computes in float32/float64 and writes
 * what mergekit writes: {@code out_dtype}, or else {@code dtype} (float32, float16 or bfloat16). Anything else
 * (tokenizer options, modules, real slicing, unknown keys) is refused by name, never ignored.
 */
public final class MergekitConfig {

    /** The largest config accepted, in characters; real ones are a few hundred. */
    public static final int MAX_CHARACTERS = 1 << 20;

    private static final Set<String> TOKENIZER_KEYS = Set.of("tokenizer_source", "tokenizer", "chat_template");

    private MergekitConfig() {}

    public static WeightMergeRequest parse(String yaml) throws InvalidMergeException {
        if (yaml.length() > MAX_CHARACTERS) {
            throw new InvalidMergeException("config", "is longer than " + MAX_CHARACTERS + " characters; not a mergekit config");
        }
        Object root;
        try {
            root = yaml().load(yaml);
        } catch (YAMLException e) {
            throw new InvalidMergeException("config", "is not valid YAML: " + e.getMessage().strip());
        }
        if (!(root instanceof Map<?, ?> config)) {
            throw new InvalidMergeException("config", "must be a YAML mapping with merge_method and models");
        }
        List<MergeProblem> problems = new ArrayList<>();
        String method = null;
        String base = null;
        List<WeightMergeRequest.ModelEntry> models = null;
        Map<String, ParameterSetting> parameters = new LinkedHashMap<>();
        Slice slice = null;
        String dtype = null;
        String outDtype = null;
        for (Map.Entry<?, ?> entry : config.entrySet()) {
            String key = String.valueOf(entry.getKey());
            Object value = entry.getValue();
            switch (key) {
                case "merge_method" -> method = string(value, key, problems);
                case "base_model" -> base = value == null ? null : string(value, key, problems);
                case "models" -> models = models(value, problems);
                case "parameters" -> parameters = parameters(value, key, problems);
                case "slices" -> slice = slice(value, problems);
                case "dtype" -> dtype = dtype(value, key, problems);
                case "out_dtype" -> outDtype = dtype(value, key, problems);
                case "modules" -> problems.add(new MergeProblem(key,
                        "not supported: GPT-2 has one module; list the models under models"));
                default -> problems.add(new MergeProblem(key, TOKENIZER_KEYS.contains(key)
                        ? "not supported: Consort merges GPT-2 models that share the GPT-2 tokenizer, and keeps it"
                        : "unsupported key; a mergekit config for Consort has merge_method, base_model, models"
                                + " (or one whole-model slice), parameters and dtype"));
            }
        }
        if (method == null && !config.containsKey("merge_method")) {
            problems.add(new MergeProblem("merge_method", "missing; one of " + WeightMergeMethods.names()));
        }
        Integer layers = null;
        if (slice != null) {
            if (models != null) {
                problems.add(new MergeProblem("slices", "give either models or slices, not both"));
            }
            models = slice.models();
            layers = slice.layers();
            for (Map.Entry<String, ParameterSetting> setting : slice.parameters().entrySet()) {
                if (parameters.putIfAbsent(setting.getKey(), setting.getValue()) != null) {
                    problems.add(new MergeProblem("slices[0].parameters." + setting.getKey(),
                            "also set in the top-level parameters; set it in one place"));
                }
            }
            if (slice.baseModel() != null) {
                if (base != null && !base.equals(slice.baseModel())) {
                    problems.add(new MergeProblem("slices[0].base_model", "differs from the top-level base_model"));
                }
                base = slice.baseModel();
            }
        } else if (models == null && !config.containsKey("models")) {
            problems.add(new MergeProblem("models", "missing: list the models to merge"));
        }
        if (!problems.isEmpty()) {
            throw new InvalidMergeException(problems);
        }
        // mergekit computes in dtype and writes out_dtype, which defaults to dtype; Consort computes in float32 or
        // better and writes what mergekit would write.
        String written = outDtype != null ? outDtype : dtype;
        return new WeightMergeRequest(method, base, models, parameters, layers,
                written == null || written.equals("float32") ? null : written);
    }

    /** A whole-model slice, as models. */
    private record Slice(List<WeightMergeRequest.ModelEntry> models, Integer layers, Map<String, ParameterSetting> parameters,
            String baseModel) {}

    private static Yaml yaml() {
        LoaderOptions options = new LoaderOptions();
        options.setAllowDuplicateKeys(false);
        options.setMaxAliasesForCollections(10);
        options.setAllowRecursiveKeys(false);
        options.setCodePointLimit(MAX_CHARACTERS);
        return new Yaml(new SafeConstructor(options));
    }

    private static List<WeightMergeRequest.ModelEntry> models(Object value, List<MergeProblem> problems) {
        if (!(value instanceof List<?> list) || list.isEmpty()) {
            problems.add(new MergeProblem("models", "must be a non-empty list of {model, parameters} entries"));
            return List.of();
        }
        List<WeightMergeRequest.ModelEntry> models = new ArrayList<>();
        for (int i = 0; i < list.size(); i++) {
            WeightMergeRequest.ModelEntry entry = model(list.get(i), "models[" + i + "]", Set.of("model", "parameters"), problems);
            if (entry != null) {
                models.add(entry);
            }
        }
        return models;
    }

    private static WeightMergeRequest.ModelEntry model(Object value, String field, Set<String> keys, List<MergeProblem> problems) {
        if (value instanceof String model) {
            // A shorthand of ours (mergekit wants a mapping): an entry may be just the model's name.
            return new WeightMergeRequest.ModelEntry(model, Map.of());
        }
        if (!(value instanceof Map<?, ?> entry)) {
            problems.add(new MergeProblem(field, "must be a mapping with model and parameters"));
            return null;
        }
        for (Object key : entry.keySet()) {
            if (!keys.contains(String.valueOf(key))) {
                problems.add(new MergeProblem(field + "." + key, "unsupported key; an entry has " + keys));
            }
        }
        String model = string(entry.get("model"), field + ".model", problems);
        Map<String, ParameterSetting> parameters = parameters(entry.get("parameters"), field + ".parameters", problems);
        return model == null ? null : new WeightMergeRequest.ModelEntry(model, parameters);
    }

    private static Slice slice(Object value, List<MergeProblem> problems) {
        String wholeModels = "only one slice whose sources all span the same whole-model layer_range [0, n_layer]"
                + " is supported (the same as listing models); stacking or mixing layer ranges is not";
        if (!(value instanceof List<?> list) || list.size() != 1 || !(list.get(0) instanceof Map<?, ?> slice)) {
            problems.add(new MergeProblem("slices", wholeModels));
            return null;
        }
        for (Object key : slice.keySet()) {
            if (!Set.of("sources", "parameters", "base_model").contains(String.valueOf(key))) {
                problems.add(new MergeProblem("slices[0]." + key, "unsupported key; a slice has sources, parameters and base_model"));
            }
        }
        if (!(slice.get("sources") instanceof List<?> sources) || sources.isEmpty()) {
            problems.add(new MergeProblem("slices[0].sources", "must be a non-empty list of {model, layer_range, parameters}"));
            return null;
        }
        List<WeightMergeRequest.ModelEntry> models = new ArrayList<>();
        Integer layers = null;
        for (int i = 0; i < sources.size(); i++) {
            String field = "slices[0].sources[" + i + "]";
            WeightMergeRequest.ModelEntry entry = model(sources.get(i), field, Set.of("model", "layer_range", "parameters"), problems);
            Object range = sources.get(i) instanceof Map<?, ?> source ? source.get("layer_range") : null;
            if (!(range instanceof List<?> bounds && bounds.size() == 2 && bounds.get(0) instanceof Integer from
                    && bounds.get(1) instanceof Integer to && from == 0 && to > 0)) {
                problems.add(new MergeProblem(field + ".layer_range", "must be [0, n_layer]: " + wholeModels));
                continue;
            }
            if (layers != null && !layers.equals(to)) {
                problems.add(new MergeProblem(field + ".layer_range", "differs from the first source's: " + wholeModels));
            }
            layers = to;
            if (entry != null) {
                models.add(entry);
            }
        }
        String base = slice.get("base_model") == null ? null : string(slice.get("base_model"), "slices[0].base_model", problems);
        return new Slice(models, layers, parameters(slice.get("parameters"), "slices[0].parameters", problems), base);
    }

    private static Map<String, ParameterSetting> parameters(Object value, String field, List<MergeProblem> problems) {
        if (value == null) {
            return Map.of();
        }
        if (!(value instanceof Map<?, ?> map)) {
            problems.add(new MergeProblem(field, "must be a mapping of parameter names to values"));
            return Map.of();
        }
        return WeightMergeRequest.parameters(map, field, problems);
    }

    private static String dtype(Object value, String field, List<MergeProblem> problems) {
        if (!(value instanceof String dtype) || !WeightMergeRequest.OUT_DTYPES.contains(dtype)) {
            problems.add(new MergeProblem(field, "must be one of " + WeightMergeRequest.OUT_DTYPES.stream().sorted()
                    .toList() + "; Consort merges in float32 or better and writes the merged weights in this dtype"));
            return null;
        }
        return dtype;
    }

    private static String string(Object value, String field, List<MergeProblem> problems) {
        if (value instanceof String s && !s.isBlank()) {
            return s;
        }
        problems.add(new MergeProblem(field, value == null ? "missing" : "must be a string"
                + (value instanceof Number ? " (quote a name that looks like a number)" : "")));
        return null;
    }
}
