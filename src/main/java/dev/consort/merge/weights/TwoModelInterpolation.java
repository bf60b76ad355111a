package dev.consort.merge.weights;

import java.util.List;

import dev.consort.merge.weights.ParameterSpec.Range;
import dev.consort.merge.weights.ParameterSpec.Scope;

/**
 * What lerp and slerp share: exactly two models, the first of which a config may name as {@code base_model}
 * (the t = 0 end), and one global {@code t} in [0, 1] (required; a gradient varies it over the layers).
 */
abstract class TwoModelInterpolation implements WeightMergeMethod {

    @Override
    public final BaseModelRole baseModelRole() {
        return BaseModelRole.FIRST_MODEL;
    }

    @Override
    public final List<ParameterSpec> parameters() {
        return List.of(ParameterSpec.number("t", Scope.GLOBAL, null, Range.UNIT));
    }

    @Override
    public final int minModels() {
        return 2;
    }

    @Override
    public final int maxModels() {
        return 2;
    }

    /** s₀·v₀ + s₁·v₁, in double and rounded once. */
    static float[] combine(float[] v0, double s0, float[] v1, double s1) {
        float[] merged = new float[v0.length];
        for (int i = 0; i < merged.length; i++) {
            merged[i] = (float) (s0 * v0[i] + s1 * v1[i]);
        }
        return merged;
    }
}
