package dev.consort.merge.weights;

import java.util.List;

import dev.consort.merge.weights.ParameterSpec.Range;
import dev.consort.merge.weights.ParameterSpec.Scope;

/**
 * Linear interpolation of two models, (1 − t)·θ₀ + t·θ₁: {@code linear} with weights (1 − t, t), written
 * with one global {@code t} in [0, 1] (required; a gradient varies it over the layers) as slerp is. Not a
 * mergekit method; t = 0 returns the first model ({@code base_model}, when given) bit for bit.
 */
final class LerpMerge implements WeightMergeMethod {

    @Override
    public String name() {
        return "lerp";
    }

    @Override
    public BaseModelRole baseModelRole() {
        return BaseModelRole.FIRST_MODEL;
    }

    @Override
    public List<ParameterSpec> parameters() {
        return List.of(ParameterSpec.number("t", Scope.GLOBAL, null, Range.UNIT));
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
        float[] v0 = tensor.experts().get(0);
        float[] v1 = tensor.experts().get(1);
        // At either end only one model contributes, so it comes back exactly (no 0·x term to flip a -0.0).
        if (t == 0 || t == 1) {
            return t == 0 ? v0 : v1;
        }
        float[] merged = new float[v0.length];
        for (int i = 0; i < merged.length; i++) {
            merged[i] = (float) ((1 - t) * v0[i] + t * v1[i]);
        }
        return merged;
    }
}
