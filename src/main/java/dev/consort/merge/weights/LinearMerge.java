package dev.consort.merge.weights;

import java.util.List;

import dev.consort.merge.weights.ParameterSpec.Range;
import dev.consort.merge.weights.ParameterSpec.Scope;

/**
 * Linear (model soups, Wortsman et al., arXiv 2203.05482): Σ wᵢθᵢ, divided by Σ wᵢ when {@code normalize}
 * (default true). Per model: {@code weight} (required). Computed in double and rounded once, so weights
 * (1, 0) return the first model bit for bit.
 */
final class LinearMerge implements WeightMergeMethod {

    @Override
    public String name() {
        return "linear";
    }

    @Override
    public BaseModelRole baseModelRole() {
        return BaseModelRole.NONE;
    }

    @Override
    public List<ParameterSpec> parameters() {
        return List.of(
                ParameterSpec.number("weight", Scope.PER_MODEL, null, Range.FINITE),
                ParameterSpec.flag("normalize", true));
    }

    @Override
    public int minModels() {
        return 1;
    }

    @Override
    public void check(String tensor, TensorParameters parameters, List<MergeProblem> problems) {
        if (parameters.flag("normalize") && sum(parameters.numbers("weight")) == 0) {
            problems.add(new MergeProblem("parameters.normalize", "the models' weights for " + tensor
                    + " sum to 0, so they cannot be normalized; change the weights or set normalize: false"));
        }
    }

    @Override
    public float[] merge(TensorInputs tensor) {
        double[] weights = tensor.parameters().numbers("weight");
        double divisor = tensor.parameters().flag("normalize") ? sum(weights) : 1;
        List<float[]> models = tensor.experts();
        float[] merged = new float[tensor.size()];
        for (int i = 0; i < merged.length; i++) {
            // -0.0 is the identity of addition (0.0 is not: 0.0 + -0.0 = 0.0), so a weight of 1 alone keeps every bit.
            double sum = -0.0;
            for (int m = 0; m < weights.length; m++) {
                if (weights[m] != 0) {
                    sum += weights[m] * models.get(m)[i];
                }
            }
            merged[i] = (float) (sum / divisor);
        }
        return merged;
    }

    private static double sum(double[] values) {
        double sum = 0;
        for (double value : values) {
            sum += value;
        }
        return sum;
    }
}
