package dev.consort.merge.weights;

import java.util.List;

import dev.consort.merge.weights.ParameterSpec.Range;
import dev.consort.merge.weights.ParameterSpec.Scope;

/**
 * NearSwap, mergekit's {@code merge_methods/nearswap.py}: the base model (the first model; {@code base_model} in
 * mergekit configs) takes the second model's value where the two are already close. Element by element,
 * w = clamp(t / max(|a − b|, 1e-6), 0, 1) and the result is w·b + (1 − w)·a, with a the base and b the other model.
 * Global {@code t} ≥ 0 (required): where |a − b| ≤ t the element is b's, and the weight falls off as t / |a − b|
 * beyond. t = 0 returns the base bit for bit. Computed in double and rounded once.
 */
final class NearswapMerge implements WeightMergeMethod {

    /** mergekit's clamp on the difference, so that equal elements give weight 1 rather than a division by zero. */
    static final double MIN_DIFFERENCE = 1e-6;

    @Override
    public String name() {
        return "nearswap";
    }

    @Override
    public BaseModelRole baseModelRole() {
        return BaseModelRole.FIRST_MODEL;
    }

    @Override
    public List<ParameterSpec> parameters() {
        return List.of(ParameterSpec.number("t", Scope.GLOBAL, null,
                new Range(0, true, Double.POSITIVE_INFINITY, false)));
    }

    @Override
    public int minModels() {
        return 2;
    }

    @Override
    public int maxModels() {
        return 2;
    }

    @Override
    public float[] merge(TensorInputs tensor) {
        double t = tensor.parameters().number("t");
        float[] a = tensor.experts().get(0);
        float[] b = tensor.experts().get(1);
        if (t == 0) {
            return a;
        }
        float[] merged = new float[a.length];
        for (int i = 0; i < merged.length; i++) {
            double difference = Math.abs((double) a[i] - b[i]);
            double w = Math.min(1, t / Math.max(difference, MIN_DIFFERENCE));
            merged[i] = w == 1 ? b[i] : (float) (w * b[i] + (1 - w) * a[i]);
        }
        return merged;
    }
}
