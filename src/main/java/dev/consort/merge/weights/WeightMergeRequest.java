package dev.consort.merge.weights;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A weight-space merge as a user writes it, in mergekit's terms, before validation: the method's name,
 * {@code base_model} (null when none), the {@code models} with their own parameters, and the top-level
 * {@code parameters}. Model references are strings (checkpoint ids or names) that the caller resolves.
 * {@link MergeRecipe#of} validates it.
 *
 * @param layers   the layer count every model must have, from the {@code layer_range} of a mergekit
 *                 {@code slices} config that covers whole models; null when the config gave none
 * @param outDtype the merged weights' dtype: {@code float32} (null), {@code float16} or {@code bfloat16}
 *                 (mergekit's {@code out_dtype}, or its {@code dtype} when no out_dtype is given)
 */
public record WeightMergeRequest(String method, String baseModel, List<ModelEntry> models,
        Map<String, ParameterSetting> parameters, Integer layers, String outDtype) {

    /** The dtypes a merge writes, by mergekit's names. */
    public static final java.util.Set<String> OUT_DTYPES = java.util.Set.of("float32", "float16", "bfloat16");

    /** One {@code models} entry: a reference and its own parameters. */
    public record ModelEntry(String model, Map<String, ParameterSetting> parameters) {
        public ModelEntry {
            parameters = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(parameters));
        }
    }

    public WeightMergeRequest {
        models = List.copyOf(models);
        parameters = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(parameters));
    }

    public WeightMergeRequest(String method, String baseModel, List<ModelEntry> models,
            Map<String, ParameterSetting> parameters) {
        this(method, baseModel, models, parameters, null, null);
    }

    public WeightMergeRequest(String method, String baseModel, List<ModelEntry> models,
            Map<String, ParameterSetting> parameters, Integer layers) {
        this(method, baseModel, models, parameters, layers, null);
    }

    /**
     * Reads a {@code parameters} object of a parsed YAML or JSON document (names to Boolean, Number, List
     * or Map values) into settings; each problem is named {@code field.name}.
     */
    public static Map<String, ParameterSetting> parameters(Map<?, ?> raw, String field, List<MergeProblem> problems) {
        Map<String, ParameterSetting> settings = new LinkedHashMap<>();
        for (Map.Entry<?, ?> entry : raw.entrySet()) {
            if (!(entry.getKey() instanceof String name)) {
                problems.add(new MergeProblem(field, "parameter names must be strings, not " + entry.getKey()));
                continue;
            }
            ParameterSetting setting = ParameterSetting.parse(entry.getValue(), field + "." + name, problems);
            if (setting != null) {
                settings.put(name, setting);
            }
        }
        return settings;
    }

    /** The request as plain values, in mergekit's layout, for the merged checkpoint's metadata. */
    public Map<String, Object> describe() {
        Map<String, Object> description = new LinkedHashMap<>();
        description.put("merge_method", method);
        if (baseModel != null) {
            description.put("base_model", baseModel);
        }
        List<Object> entries = new ArrayList<>();
        for (ModelEntry entry : models) {
            Map<String, Object> model = new LinkedHashMap<>();
            model.put("model", entry.model());
            if (!entry.parameters().isEmpty()) {
                model.put("parameters", plain(entry.parameters()));
            }
            entries.add(model);
        }
        description.put("models", entries);
        if (!parameters.isEmpty()) {
            description.put("parameters", plain(parameters));
        }
        return description;
    }

    private static Map<String, Object> plain(Map<String, ParameterSetting> settings) {
        Map<String, Object> plain = new LinkedHashMap<>();
        settings.forEach((name, setting) -> plain.put(name, setting.plain()));
        return plain;
    }
}
