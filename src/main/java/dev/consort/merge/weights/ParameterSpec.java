package dev.consort.merge.weights;

import java.util.List;

/**
 * A parameter a merge method reads: its name, whether it is set once ({@link Scope#GLOBAL}, top-level
 * {@code parameters}) or per model ({@link Scope#PER_MODEL}, under each model, falling back to the
 * top-level setting, as in mergekit), whether it is a number or a flag, its default (null when the
 * parameter is required), and the range every value it may take must lie in.
 */
public record ParameterSpec(String name, Scope scope, Kind kind, Object defaultValue, Range range) {

    public enum Scope { GLOBAL, PER_MODEL }

    public enum Kind { NUMBER, FLAG }

    /** An interval of allowed numbers; every value is also required to be finite. */
    public record Range(double min, boolean minIncluded, double max, boolean maxIncluded) {

        public static final Range FINITE = new Range(Double.NEGATIVE_INFINITY, false, Double.POSITIVE_INFINITY, false);
        public static final Range UNIT = new Range(0, true, 1, true);
        public static final Range FRACTION_ABOVE_ZERO = new Range(0, false, 1, true);
        public static final Range FRACTION_BELOW_ONE = new Range(0, true, 1, false);

        public boolean contains(double value) {
            return Double.isFinite(value)
                    && (minIncluded ? value >= min : value > min)
                    && (maxIncluded ? value <= max : value < max);
        }

        @Override
        public String toString() {
            if (this.equals(FINITE)) {
                return "any finite number";
            }
            return "in " + (minIncluded ? "[" : "(") + format(min) + ", " + format(max) + (maxIncluded ? "]" : ")");
        }

        private static String format(double bound) {
            return bound == Math.rint(bound) ? Long.toString((long) bound) : Double.toString(bound);
        }
    }

    public static ParameterSpec number(String name, Scope scope, Double defaultValue, Range range) {
        return new ParameterSpec(name, scope, Kind.NUMBER, defaultValue, range);
    }

    public static ParameterSpec flag(String name, boolean defaultValue) {
        return new ParameterSpec(name, Scope.GLOBAL, Kind.FLAG, defaultValue, null);
    }

    public boolean required() {
        return defaultValue == null;
    }

    /** Adds to {@code problems} what is wrong with {@code setting} for this parameter: kind and range of every value. */
    void check(ParameterSetting setting, String field, List<MergeProblem> problems) {
        setting.forEachLeaf(field, (leafField, leaf) -> {
            if (kind == Kind.FLAG) {
                boolean flagLike = leaf instanceof ParameterSetting.Flag
                        || leaf instanceof ParameterSetting.Scalar scalar && (scalar.value() == 0 || scalar.value() == 1);
                if (!flagLike) {
                    problems.add(new MergeProblem(leafField, leaf instanceof ParameterSetting.Gradient
                            ? "must be true or false; a flag cannot vary over the layers" : "must be true or false"));
                }
            } else if (leaf instanceof ParameterSetting.Flag flag) {
                problems.add(new MergeProblem(leafField, "must be a number " + range + ", not " + flag.value()));
            } else if (leaf instanceof ParameterSetting.Scalar scalar && !range.contains(scalar.value())) {
                problems.add(new MergeProblem(leafField, "is " + scalar.value() + " but must be " + range));
            } else if (leaf instanceof ParameterSetting.Gradient gradient) {
                for (int i = 0; i < gradient.values().size(); i++) {
                    double value = gradient.values().get(i);
                    if (!range.contains(value)) {
                        problems.add(new MergeProblem(leafField + "[" + i + "]", "is " + value + " but must be " + range));
                    }
                }
            }
        });
    }

    /** An evaluated setting (Double or Boolean) as this parameter's kind: a Double, or a Boolean (0/1 read as false/true). */
    Object asKind(Object evaluated) {
        if (kind == Kind.FLAG && evaluated instanceof Double number) {
            return number != 0;
        }
        return evaluated;
    }
}
