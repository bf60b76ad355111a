package dev.consort.merge.weights;

import java.util.ArrayList;
import java.util.List;

import dev.consort.merge.weights.ParameterSpec.Range;
import dev.consort.merge.weights.ParameterSpec.Scope;

/**
 * mergekit's generalized task arithmetic, which task_arithmetic, ties, dare_*, and breadcrumbs* configure:
 * per tensor, every model's delta from the base (its task vector), optionally sparsified, weighted, and
 * either summed or, with TIES sign consensus, summed over the models agreeing with the elected sign;
 * divided by the weights summed alike when {@code normalize}; times {@code lambda}; added to the base.
 *
 * <p>Parameters, per model (top-level values apply to every model): {@code weight} (required),
 * {@code density} (default 1, in (0, 1]) for sparsifying methods, {@code gamma} (default 0.01, in [0, 1))
 * for breadcrumbs. Global: {@code lambda} (default 1), {@code normalize}, {@code rescale} for sparsifying
 * methods (defaults per method), and {@code int8_mask}, accepted for mergekit configs: it only chooses the
 * dtype of mergekit's sign mask and changes no result.
 *
 * <p>Arithmetic: the deltas are float differences as mergekit's; the combination is in double, rounded once.
 */
abstract class TaskVectorMerge implements WeightMergeMethod {

    private final String name;
    private final Sparsification sparsification;
    private final boolean signConsensus;
    private final List<ParameterSpec> parameters = new ArrayList<>();

    /**
     * @param sparsification how deltas are thinned, or null for none
     * @param signConsensus  TIES sign election ("sum": the sign of the weighted deltas' sum, zero counting as +)
     */
    TaskVectorMerge(String name, Sparsification sparsification, boolean signConsensus, boolean normalizeByDefault,
            boolean rescaleByDefault) {
        this.name = name;
        this.sparsification = sparsification;
        this.signConsensus = signConsensus;
        parameters.add(ParameterSpec.number("weight", Scope.PER_MODEL, null, Range.FINITE));
        if (sparsification != null) {
            parameters.add(ParameterSpec.number("density", Scope.PER_MODEL, 1.0, Range.FRACTION_ABOVE_ZERO));
        }
        if (sparsification == Sparsification.MAGNITUDE_OUTLIERS) {
            parameters.add(ParameterSpec.number("gamma", Scope.PER_MODEL, 0.01, Range.FRACTION_BELOW_ONE));
        }
        parameters.add(ParameterSpec.number("lambda", Scope.GLOBAL, 1.0, Range.FINITE));
        parameters.add(ParameterSpec.flag("normalize", normalizeByDefault));
        if (sparsification != null) {
            parameters.add(ParameterSpec.flag("rescale", rescaleByDefault));
        }
        parameters.add(ParameterSpec.flag("int8_mask", false));
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public BaseModelRole baseModelRole() {
        return BaseModelRole.ORIGIN;
    }

    @Override
    public List<ParameterSpec> parameters() {
        return parameters;
    }

    @Override
    public int minModels() {
        return 1;
    }

    @Override
    public float[] merge(TensorInputs tensor) {
        float[] base = tensor.base();
        List<float[]> deltas = tensor.experts();
        TensorParameters parameters = tensor.parameters();
        int models = deltas.size();
        int n = base.length;
        for (float[] delta : deltas) {
            for (int i = 0; i < n; i++) {
                delta[i] -= base[i];
            }
        }
        if (sparsification != null) {
            boolean rescale = parameters.flag("rescale");
            for (int m = 0; m < models; m++) {
                double gamma = sparsification == Sparsification.MAGNITUDE_OUTLIERS ? parameters.number("gamma", m) : 0;
                sparsification.apply(deltas.get(m), parameters.number("density", m), gamma, rescale, tensor.random());
            }
        }
        double[] weights = parameters.numbers("weight");
        double lambda = parameters.number("lambda");
        boolean normalize = parameters.flag("normalize");
        float[][] d = deltas.toArray(new float[0][]);
        if (signConsensus) {
            combineAgreeing(base, d, weights, lambda, normalize);
        } else {
            combineAll(base, d, weights, lambda, normalize);
        }
        return base;
    }

    /** base += λ · Σ wᵢδᵢ (/ Σ wᵢ when normalizing, unless that sum is within 1e-8 of 0), in place. */
    private static void combineAll(float[] base, float[][] deltas, double[] weights, double lambda, boolean normalize) {
        double divisor = 0;
        for (double weight : weights) {
            divisor += weight;
        }
        if (Math.abs(divisor) < 1e-8 || !normalize) {
            divisor = 1;
        }
        for (int i = 0; i < base.length; i++) {
            double mixed = 0;
            for (int m = 0; m < deltas.length; m++) {
                mixed += weights[m] * deltas[m][i];
            }
            base[i] = (float) (base[i] + lambda * (mixed / divisor));
        }
    }

    /**
     * TIES: the elected sign of each entry is that of Σ wᵢδᵢ (≥ 0 is +); only weighted deltas of that sign
     * (zeros never agree) are summed, and divided by the sum of their weights (or 1 when it is 0), in place.
     */
    private static void combineAgreeing(float[] base, float[][] deltas, double[] weights, double lambda,
            boolean normalize) {
        for (int i = 0; i < base.length; i++) {
            double sum = 0;
            for (int m = 0; m < deltas.length; m++) {
                sum += weights[m] * deltas[m][i];
            }
            boolean positive = sum >= 0;
            double mixed = 0;
            double divisor = 0;
            for (int m = 0; m < deltas.length; m++) {
                double weighted = weights[m] * deltas[m][i];
                if (positive ? weighted > 0 : weighted < 0) {
                    mixed += weighted;
                    divisor += weights[m];
                }
            }
            if (normalize && divisor != 0) {
                mixed /= divisor;
            }
            base[i] = (float) (base[i] + lambda * mixed);
        }
    }
}
