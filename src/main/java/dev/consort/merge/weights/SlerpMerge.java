package dev.consort.merge.weights;

/**
 * Spherical linear interpolation of two models, mergekit's formula: the tensors are flattened, copies
 * normalised (when their norm exceeds 1e-8) and dotted; when |dot| > 0.9995 they are nearly colinear and
 * are lerped, (1 − t)·v₀ + t·v₁; otherwise, with θ₀ = acos(dot), the unnormalised tensors are combined as
 * sin((1 − t)θ₀)/sin θ₀ · v₀ + sin(tθ₀)/sin θ₀ · v₁. Global {@code t} in [0, 1] (required; a gradient
 * varies it over the layers); t = 0 is the first model ({@code base_model} in mergekit configs).
 * Computed in double and rounded once, so a model slerped with itself comes back unchanged.
 */
final class SlerpMerge extends TwoModelInterpolation {

    static final double DOT_THRESHOLD = 0.9995;
    static final double EPSILON = 1e-8;

    @Override
    public String name() {
        return "slerp";
    }

    @Override
    public float[] merge(TensorInputs tensor) {
        double t = tensor.parameters().number("t");
        float[] v0 = tensor.experts().get(0);
        float[] v1 = tensor.experts().get(1);
        double squares0 = 0;
        double squares1 = 0;
        double products = 0;
        for (int i = 0; i < v0.length; i++) {
            squares0 += (double) v0[i] * v0[i];
            squares1 += (double) v1[i] * v1[i];
            products += (double) v0[i] * v1[i];
        }
        double norm0 = Math.sqrt(squares0);
        double norm1 = Math.sqrt(squares1);
        double dot = products / ((norm0 > EPSILON ? norm0 : 1) * (norm1 > EPSILON ? norm1 : 1));
        double s0;
        double s1;
        if (Math.abs(dot) > DOT_THRESHOLD) {
            s0 = 1 - t;
            s1 = t;
        } else {
            double theta0 = Math.acos(dot);
            double sinTheta0 = Math.sin(theta0);
            double thetaT = theta0 * t;
            s0 = Math.sin(theta0 - thetaT) / sinTheta0;
            s1 = Math.sin(thetaT) / sinTheta0;
        }
        return combine(v0, s0, v1, s1);
    }
}
