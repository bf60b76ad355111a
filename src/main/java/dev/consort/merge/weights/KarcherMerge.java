package dev.consort.merge.weights;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import dev.consort.merge.weights.ParameterSpec.Range;
import dev.consort.merge.weights.ParameterSpec.Scope;

/**
 * Karcher mean, mergekit's {@code merge_methods/karcher.py}: each model's tensor, flattened, is split into its norm
 * and its direction on the unit sphere; the directions' Riemannian (Karcher) mean is found by at most
 * {@code max_iter} steps of the exponential map from their normalised arithmetic mean, stopping once the tangent
 * step's norm falls below {@code tol}; the result is that direction scaled by the models' mean norm. Models weigh
 * equally, as in mergekit; one whose norm is at most {@code tol} takes no part in the direction but counts (as 0) in
 * the norm. Global {@code max_iter} (default 10) and {@code tol} (default 1e-5). In double, rounded once.
 */
final class KarcherMerge implements WeightMergeMethod {

    @Override
    public String name() {
        return "karcher";
    }

    @Override
    public BaseModelRole baseModelRole() {
        return BaseModelRole.NONE;
    }

    @Override
    public List<ParameterSpec> parameters() {
        return List.of(
                ParameterSpec.number("max_iter", Scope.GLOBAL, 10.0, new Range(0, true, 10_000, true)),
                ParameterSpec.number("tol", Scope.GLOBAL, 1e-5, new Range(0, false, 1, true)));
    }

    @Override
    public int minModels() {
        return 1;
    }

    @Override
    public void check(String tensor, TensorParameters parameters, List<MergeProblem> problems) {
        double maxIter = parameters.number("max_iter");
        if (maxIter != Math.rint(maxIter)) {
            problems.add(new MergeProblem("parameters.max_iter", "must be a whole number, not " + maxIter));
        }
    }

    @Override
    public float[] merge(TensorInputs tensor) {
        List<float[]> models = tensor.experts();
        if (models.size() == 1) {
            return models.get(0);
        }
        int maxIter = (int) tensor.parameters().number("max_iter");
        double tol = tensor.parameters().number("tol");
        int n = tensor.size();
        double alpha = 1.0 / models.size();

        // Directions are the models' values over their norms, read in place rather than copied.
        double meanNorm = 0;
        List<float[]> valid = new ArrayList<>();
        List<Double> inverseNorms = new ArrayList<>();
        for (float[] model : models) {
            double norm = norm(model);
            meanNorm += alpha * norm;
            if (norm > tol) {
                valid.add(model);
                inverseNorms.add(1 / norm);
            }
        }
        if (valid.isEmpty()) {
            return new float[n];
        }
        double weight = 1.0 / valid.size();                     // the valid models' weights, renormalised

        // Start from the normalised weighted arithmetic mean of the directions (the first direction if it vanishes).
        double[] u = new double[n];
        for (int m = 0; m < valid.size(); m++) {
            float[] model = valid.get(m);
            double factor = weight * inverseNorms.get(m);
            for (int i = 0; i < n; i++) {
                u[i] += factor * model[i];
            }
        }
        double normU = norm(u);
        if (normU < tol) {
            float[] first = valid.get(0);
            for (int i = 0; i < n; i++) {
                u[i] = first[i] * inverseNorms.get(0);
            }
        } else {
            scale(u, 1 / normU);
        }

        double[] tangent = new double[n];
        for (int iteration = 0; iteration < maxIter; iteration++) {
            // The mean of the directions' log maps at u: a tangent vector T.
            Arrays.fill(tangent, 0);
            for (int m = 0; m < valid.size(); m++) {
                float[] model = valid.get(m);
                double inverse = inverseNorms.get(m);
                double dot = 0;
                for (int i = 0; i < n; i++) {
                    dot += u[i] * model[i] * inverse;
                }
                dot = Math.max(-1, Math.min(1, dot));
                double theta = Math.acos(dot);
                if (theta < tol) {
                    continue;
                }
                double factor = weight * theta / Math.sin(theta);
                for (int i = 0; i < n; i++) {
                    tangent[i] += factor * (model[i] * inverse - dot * u[i]);
                }
            }
            double normT = norm(tangent);
            if (normT < tol) {
                break;
            }
            // The exponential map: u moves along T by its length, then is renormalised.
            double cos = Math.cos(normT);
            double sin = Math.sin(normT);
            for (int i = 0; i < n; i++) {
                u[i] = cos * u[i] + sin * tangent[i] / normT;
            }
            double length = norm(u);
            if (length > tol) {
                scale(u, 1 / length);
            }
        }
        float[] merged = new float[n];
        for (int i = 0; i < n; i++) {
            merged[i] = (float) (meanNorm * u[i]);
        }
        return merged;
    }

    private static double norm(float[] values) {
        double squares = 0;
        for (float value : values) {
            squares += (double) value * value;
        }
        return Math.sqrt(squares);
    }

    private static double norm(double[] values) {
        double squares = 0;
        for (double value : values) {
            squares += value * value;
        }
        return Math.sqrt(squares);
    }

    private static void scale(double[] values, double factor) {
        for (int i = 0; i < values.length; i++) {
            values[i] *= factor;
        }
    }
}
