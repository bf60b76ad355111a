package dev.consort.merge.weights;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A method's parameters resolved for one tensor, defaults filled in: {@code global} by name, and
 * {@code models} with one map per model merged (in the order of the tensors handed to the method).
 * Numbers are Doubles, flags Booleans.
 */
public record TensorParameters(Map<String, Object> global, List<Map<String, Object>> models) {

    public TensorParameters {
        global = Map.copyOf(global);
        models = models.stream().map(Map::copyOf).toList();
    }

    public double number(String name) {
        return (Double) value(global, name);
    }

    public boolean flag(String name) {
        return (Boolean) value(global, name);
    }

    public double number(String name, int model) {
        return (Double) value(models.get(model), name);
    }

    /** The per-model number for every model, in order. */
    public double[] numbers(String name) {
        double[] values = new double[models.size()];
        for (int i = 0; i < values.length; i++) {
            values[i] = number(name, i);
        }
        return values;
    }

    /** The parameters as plain values, for a description of the merge. */
    public Map<String, Object> describe() {
        Map<String, Object> description = new LinkedHashMap<>(global);
        description.put("models", models);
        return description;
    }

    private static Object value(Map<String, Object> values, String name) {
        Object value = values.get(name);
        if (value == null) {
            throw new IllegalArgumentException("no parameter " + name + " resolved (have " + values.keySet() + ")");
        }
        return value;
    }
}
