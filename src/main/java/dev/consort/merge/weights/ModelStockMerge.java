package dev.consort.merge.weights;

import java.util.List;

/**
 * Model Stock (Jang et al., arXiv 2403.19522), as mergekit computes it: with the models' offsets from the
 * base δᵢ = θᵢ − θ₀, cos θ is the mean over pairs of δᵢ·δⱼ / max(|δᵢ||δⱼ|, 1e-6), clamped to [−1, 1];
 * with k models, t = k·cos θ / ((k − 1)·cos θ + 1), and the result is t·mean(θᵢ) + (1 − t)·θ₀. Global
 * {@code filter_wise} (default false) computes t per row (the last dimension) instead of per tensor.
 * Needs the base and at least two models. Where t's denominator is 0 (two exactly opposite offsets),
 * mergekit divides by zero; here t is 0 and the base is kept.
 */
final class ModelStockMerge implements WeightMergeMethod {

    @Override
    public String name() {
        return "model_stock";
    }

    @Override
    public BaseModelRole baseModelRole() {
        return BaseModelRole.ORIGIN;
    }

    @Override
    public List<ParameterSpec> parameters() {
        return List.of(ParameterSpec.flag("filter_wise", false));
    }

    @Override
    public int minModels() {
        return 2;
    }

    @Override
    public float[] merge(TensorInputs tensor) {
        float[] base = tensor.base();
        float[][] models = tensor.experts().toArray(new float[0][]);
        long[] shape = tensor.shape();
        int rowLength = tensor.parameters().flag("filter_wise") && shape.length > 0
                ? Math.toIntExact(shape[shape.length - 1]) : base.length;
        float[] merged = new float[base.length];
        for (int start = 0; start < base.length; start += Math.max(rowLength, 1)) {
            int end = start + rowLength;
            double t = interpolation(base, models, start, end);
            for (int i = start; i < end; i++) {
                double sum = 0;
                for (float[] model : models) {
                    sum += model[i];
                }
                merged[i] = (float) (t * (sum / models.length) + (1 - t) * base[i]);
            }
        }
        return merged;
    }

    /** t for the entries [start, end): from the mean pairwise cosine of the offsets (float differences, as mergekit's). */
    private static double interpolation(float[] base, float[][] models, int start, int end) {
        int k = models.length;
        double[][] products = new double[k][k];
        for (int i = start; i < end; i++) {
            for (int a = 0; a < k; a++) {
                float offsetA = models[a][i] - base[i];
                for (int b = a; b < k; b++) {
                    products[a][b] += (double) offsetA * (models[b][i] - base[i]);
                }
            }
        }
        double cosines = 0;
        int pairs = 0;
        for (int a = 0; a < k; a++) {
            for (int b = a + 1; b < k; b++) {
                double norms = Math.sqrt(products[a][a]) * Math.sqrt(products[b][b]);
                cosines += Math.max(-1, Math.min(1, products[a][b] / Math.max(norms, 1e-6)));
                pairs++;
            }
        }
        double cos = cosines / pairs;
        double denominator = (k - 1) * cos + 1;
        return denominator == 0 ? 0 : k * cos / denominator;
    }
}
