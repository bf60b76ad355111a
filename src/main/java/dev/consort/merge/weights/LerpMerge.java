package dev.consort.merge.weights;

/**
 * Linear interpolation of two models, (1 − t)·θ₀ + t·θ₁: {@code linear} with weights (1 − t, t), written
 * with one global {@code t} in [0, 1] (required; a gradient varies it over the layers) as slerp is. Not a
 * mergekit method; t = 0 returns the first model ({@code base_model}, when given) bit for bit.
 */
final class LerpMerge extends TwoModelInterpolation {

    @Override
    public String name() {
        return "lerp";
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
        return combine(v0, 1 - t, v1, t);
    }
}
