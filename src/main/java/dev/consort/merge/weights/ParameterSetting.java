package dev.consort.merge.weights;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BiConsumer;

/**
 * A merge parameter's value as mergekit configs write it (mergekit's {@code ParameterSetting}): a number,
 * a flag, a gradient (a list of numbers interpolated linearly across the layers), or a list of filtered
 * values, the first of which whose {@code filter} the tensor's name contains applies ({@code filter}
 * absent or {@code "*"} matches every tensor). A filtered list that matches no tensor name yields nothing,
 * and the parameter is then looked up one level higher (a model's own setting, then the top-level one,
 * then the method's default), as in mergekit.
 */
public sealed interface ParameterSetting {

    /** A setting with the same value for every tensor, written as that value. */
    sealed interface Uniform extends ParameterSetting {
        Object constant();

        @Override
        default Object evaluate(String tensorName, double t) {
            return constant();
        }

        @Override
        default Object plain() {
            return constant();
        }
    }

    /** A number, the same for every tensor. */
    record Scalar(double value) implements Uniform {
        @Override
        public Object constant() {
            return value;
        }
    }

    /** {@code true} or {@code false}, the same for every tensor. */
    record Flag(boolean value) implements Uniform {
        @Override
        public Object constant() {
            return value;
        }
    }

    /**
     * Numbers spread evenly over the layers, first to last ({@code t} = layer / (n_layer − 1); 0 for the
     * embeddings and the final layer norm, as mergekit plans them), linearly interpolated in between.
     */
    record Gradient(List<Double> values) implements ParameterSetting {
        public Gradient {
            values = List.copyOf(values);
            if (values.isEmpty()) {
                throw new IllegalArgumentException("a gradient needs at least one value");
            }
        }

        @Override
        public Object evaluate(String tensorName, double t) {
            double scaled = t * (values.size() - 1);
            int i0 = (int) scaled;
            int i1 = Math.min(values.size() - 1, i0 + 1);
            double fraction = scaled - i0;
            return (1 - fraction) * values.get(i0) + fraction * values.get(i1);
        }

        @Override
        public Object plain() {
            return values;
        }
    }

    /** One entry of a {@link Filtered} list; {@code filter} is null for the catch-all entry. */
    record Conditional(String filter, ParameterSetting value) {
        public Conditional {
            if (value instanceof Filtered) {
                throw new IllegalArgumentException("filtered values do not nest");
            }
        }

        boolean matches(String tensorName) {
            return filter == null || filter.equals("*") || tensorName.contains(filter);
        }
    }

    /** Values by tensor name: the first entry whose filter matches applies. */
    record Filtered(List<Conditional> conditions) implements ParameterSetting {
        public Filtered {
            conditions = List.copyOf(conditions);
        }

        @Override
        public Object evaluate(String tensorName, double t) {
            for (Conditional condition : conditions) {
                if (condition.matches(tensorName)) {
                    return condition.value().evaluate(tensorName, t);
                }
            }
            return null;
        }

        @Override
        public Object plain() {
            List<Object> entries = new ArrayList<>();
            for (Conditional condition : conditions) {
                Map<String, Object> entry = new LinkedHashMap<>();
                if (condition.filter() != null) {
                    entry.put("filter", condition.filter());
                }
                entry.put("value", condition.value().plain());
                entries.add(entry);
            }
            return entries;
        }
    }

    /**
     * The value for the tensor mergekit names {@code tensorName} at gradient position {@code t} in [0, 1]:
     * a {@link Double} or a {@link Boolean}, or null when no filter matches.
     */
    Object evaluate(String tensorName, double t);

    /** The setting as plain JSON/YAML values (numbers, booleans, lists, maps), as a config would write it. */
    Object plain();

    /**
     * Calls {@code leaf} with every scalar, flag and gradient this setting holds and the field path that
     * names it ({@code parameters.t[1].value}), so each can be checked against the parameter's range.
     */
    default void forEachLeaf(String field, BiConsumer<String, ParameterSetting> leaf) {
        if (this instanceof Filtered filtered) {
            for (int i = 0; i < filtered.conditions().size(); i++) {
                leaf.accept(field + "[" + i + "].value", filtered.conditions().get(i).value());
            }
        } else {
            leaf.accept(field, this);
        }
    }

    /**
     * Reads a setting from a parsed YAML or JSON value (Boolean, Number, List or Map, as SnakeYAML and
     * Jackson produce them). Returns null, with the reasons added to {@code problems}, when it is not one.
     */
    static ParameterSetting parse(Object raw, String field, List<MergeProblem> problems) {
        if (raw instanceof List<?> list && !list.isEmpty() && list.stream().allMatch(e -> e instanceof Map<?, ?>)) {
            List<Conditional> conditions = new ArrayList<>();
            for (int i = 0; i < list.size(); i++) {
                Conditional condition = conditional((Map<?, ?>) list.get(i), field + "[" + i + "]", problems);
                if (condition == null) {
                    return null;
                }
                conditions.add(condition);
            }
            return new Filtered(conditions);
        }
        if (raw instanceof Map<?, ?> map) {
            Conditional condition = conditional(map, field, problems);
            return condition == null ? null : new Filtered(List.of(condition));
        }
        return unfiltered(raw, field, problems);
    }

    private static Conditional conditional(Map<?, ?> map, String field, List<MergeProblem> problems) {
        for (Object key : map.keySet()) {
            if (!Set.of("filter", "value").contains(key)) {
                problems.add(new MergeProblem(field + "." + key,
                        "unsupported key; a filtered value has only \"filter\" and \"value\""));
                return null;
            }
        }
        Object filter = map.get("filter");
        if (filter != null && !(filter instanceof String s && !s.isEmpty())) {
            problems.add(new MergeProblem(field + ".filter",
                    "must be a non-empty string (a part of the tensor names it applies to)"));
            return null;
        }
        if (!map.containsKey("value")) {
            problems.add(new MergeProblem(field + ".value", "missing: a filtered entry needs a value"));
            return null;
        }
        ParameterSetting value = unfiltered(map.get("value"), field + ".value", problems);
        return value == null ? null : new Conditional((String) filter, value);
    }

    private static ParameterSetting unfiltered(Object raw, String field, List<MergeProblem> problems) {
        if (raw instanceof Boolean flag) {
            return new Flag(flag);
        }
        if (raw instanceof Number number) {
            Double value = finite(number, field, problems);
            return value == null ? null : new Scalar(value);
        }
        if (raw instanceof List<?> list && !list.isEmpty() && list.stream().allMatch(e -> e instanceof Number)) {
            List<Double> values = new ArrayList<>();
            for (int i = 0; i < list.size(); i++) {
                Double value = finite((Number) list.get(i), field + "[" + i + "]", problems);
                if (value == null) {
                    return null;
                }
                values.add(value);
            }
            return new Gradient(values);
        }
        problems.add(new MergeProblem(field, "must be a number, true/false, a list of numbers (a gradient over"
                + " the layers) or a list of {filter, value} entries; got " + describe(raw)));
        return null;
    }

    private static Double finite(Number number, String field, List<MergeProblem> problems) {
        double value = number instanceof BigDecimal || number instanceof BigInteger
                ? new BigDecimal(number.toString()).doubleValue() : number.doubleValue();
        if (!Double.isFinite(value)) {
            problems.add(new MergeProblem(field, "must be a finite number, not " + number));
            return null;
        }
        return value;
    }

    private static String describe(Object raw) {
        if (raw == null) {
            return "nothing (null)";
        }
        if (raw instanceof List<?> list) {
            return list.isEmpty() ? "an empty list" : "a list mixing kinds of values";
        }
        if (raw instanceof String s) {
            return "the string \"" + s + "\"";
        }
        return raw.getClass().getSimpleName();
    }
}
