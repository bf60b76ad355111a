package dev.consort.merge.weights;

import java.util.Arrays;
import java.util.List;

import dev.consort.merge.weights.ParameterSpec.Range;
import dev.consort.merge.weights.ParameterSpec.Scope;

/**
 * SCE (select, calculate, erase; Wan et al., arXiv 2408.07990), mergekit's {@code merge_methods/sce.py}, on the
 * models' task vectors δₘ = θₘ − θ_base:
 * <ol>
 *   <li>select: with {@code select_topk} &lt; 1, keep only the entries whose variance across the models is among
 *       the ⌊select_topk · (entries of non-zero variance)⌋ largest, in every model (ties: the earlier entry);</li>
 *   <li>calculate: each model's weight is its mean squared delta, normalised to sum 1 (equal weights when that sum
 *       is below 1e-6);</li>
 *   <li>erase: TIES sign election by the deltas' plain sum (zero counting as +); an entry of a model counts only
 *       where its delta has the elected sign (a zero delta never does).</li>
 * </ol>
 * The result is θ_base + Σ wₘ·maskₘ·δₘ / max(Σ wₘ·maskₘ, 1e-6). Global {@code select_topk} (default 1, in [0, 1])
 * and {@code int8_mask}, accepted for mergekit configs (it only chooses the dtype of mergekit's masks). The models
 * take no weights of their own. In double, rounded once.
 */
final class SceMerge implements WeightMergeMethod {

    @Override
    public String name() {
        return "sce";
    }

    @Override
    public BaseModelRole baseModelRole() {
        return BaseModelRole.ORIGIN;
    }

    @Override
    public List<ParameterSpec> parameters() {
        return List.of(
                ParameterSpec.number("select_topk", Scope.GLOBAL, 1.0, Range.UNIT),
                ParameterSpec.flag("int8_mask", false));
    }

    @Override
    public int minModels() {
        return 1;
    }

    @Override
    public float[] merge(TensorInputs tensor) {
        float[] base = tensor.base();
        List<float[]> models = tensor.experts();
        int count = models.size();
        int n = base.length;
        float[][] deltas = new float[count][];
        for (int m = 0; m < count; m++) {
            float[] delta = models.get(m);                          // handed over: turned into its delta in place
            for (int i = 0; i < n; i++) {
                delta[i] -= base[i];
            }
            deltas[m] = delta;
        }
        double topk = tensor.parameters().number("select_topk");
        if (topk < 1) {
            select(deltas, topk);
        }
        // calculate: each model's mean squared delta, normalised.
        double[] weights = new double[count];
        double total = 0;
        for (int m = 0; m < count; m++) {
            double squares = 0;
            for (float value : deltas[m]) {
                squares += (double) value * value;
            }
            weights[m] = squares / n;
            total += weights[m];
        }
        for (int m = 0; m < count; m++) {
            weights[m] = Math.abs(total) < 1e-6 ? 1.0 / count : weights[m] / total;
        }
        // erase, then the weighted mean of what is left.
        float[] merged = new float[n];
        for (int i = 0; i < n; i++) {
            double sum = 0;
            for (int m = 0; m < count; m++) {
                sum += deltas[m][i];
            }
            int elected = sum >= 0 ? 1 : -1;
            double weighted = 0;
            double weightSum = 0;
            for (int m = 0; m < count; m++) {
                float delta = deltas[m][i];
                if (Math.signum(delta) == elected) {
                    weighted += weights[m] * delta;
                    weightSum += weights[m];
                }
            }
            merged[i] = (float) (base[i] + weighted / Math.max(weightSum, 1e-6));
        }
        return merged;
    }

    /** Zeroes, in every model, the entries outside the top {@code density} share of non-zero variance across models. */
    private static void select(float[][] deltas, double density) {
        int n = deltas[0].length;
        if (density <= 0) {
            for (float[] delta : deltas) {
                Arrays.fill(delta, 0f);
            }
            return;
        }
        double[] variance = new double[n];
        int nonZero = 0;
        for (int i = 0; i < n; i++) {
            double mean = 0;
            for (float[] delta : deltas) {
                mean += delta[i];
            }
            mean /= deltas.length;
            double squares = 0;
            for (float[] delta : deltas) {
                double d = delta[i] - mean;
                squares += d * d;
            }
            variance[i] = squares / deltas.length;                  // population variance, as torch.var(unbiased=False)
            if (variance[i] != 0) {
                nonZero++;
            }
        }
        int k = (int) (nonZero * density);
        // The k largest variances, ties at the k-th broken by position; every other entry is erased. The k-th value
        // comes from one sorted copy of the variances (primitive, so a vocabulary-sized tensor stays cheap).
        boolean[] keep = new boolean[n];
        if (k > 0) {
            double[] sorted = variance.clone();
            Arrays.sort(sorted);
            double threshold = sorted[n - k];
            int above = 0;
            for (int i = 0; i < n; i++) {
                if (variance[i] > threshold) {
                    keep[i] = true;
                    above++;
                }
            }
            for (int i = 0, ties = k - above; i < n && ties > 0; i++) {
                if (variance[i] == threshold) {
                    keep[i] = true;
                    ties--;
                }
            }
        }
        for (float[] delta : deltas) {
            for (int i = 0; i < n; i++) {
                if (!keep[i]) {
                    delta[i] = 0f;
                }
            }
        }
    }
}
