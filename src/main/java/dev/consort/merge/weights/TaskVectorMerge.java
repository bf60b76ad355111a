package dev.consort.merge.weights;

import java.util.ArrayList;
import java.util.List;
import java.util.random.RandomGenerator;
import java.util.stream.IntStream;

import dev.consort.merge.weights.ParameterSpec.Range;
import dev.consort.merge.weights.ParameterSpec.Scope;

/**
 * mergekit's generalized task arithmetic, which task_arithmetic, ties, dare_*, breadcrumbs* and della* configure:
 * per tensor, every model's delta from the base (its task vector), optionally sparsified, weighted, and
 * either summed or, with TIES sign consensus, summed over the models agreeing with the elected sign;
 * divided by the weights summed alike when {@code normalize}; times {@code lambda}; added to the base.
 *
 * <p>Parameters, per model (top-level values apply to every model): {@code weight} (required),
 * {@code density} (default 1, in (0, 1]) for sparsifying methods, {@code gamma} (default 0.01, in [0, 1))
 * for breadcrumbs, {@code epsilon} (default 0.15, density ± epsilon in (0, 1)) for della. Global: {@code lambda}
 * (default 1), {@code normalize}, {@code rescale} for sparsifying methods (defaults per method), and
 * {@code int8_mask}, accepted for mergekit configs: it only chooses the
 * dtype of mergekit's sign mask and changes no result.
 *
 * <p>The models' deltas are computed and sparsified in parallel, and slices of the tensor combined in
 * parallel (the common fork-join pool); each entry's arithmetic is the same either way.
 *
 * <p>Arithmetic is float32 throughout, operation for operation as mergekit's on float32 tensors (only the
 * order in which the models' terms are summed may differ).
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
        if (sparsification == Sparsification.RANK_SAMPLED) {
            parameters.add(ParameterSpec.number("epsilon", Scope.PER_MODEL, 0.15, Range.FRACTION_BELOW_ONE));
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

    /** DELLA's keep probabilities, density ± epsilon, must lie in (0, 1) wherever a delta is thinned. */
    @Override
    public void check(String tensor, TensorParameters parameters, List<MergeProblem> problems) {
        if (sparsification != Sparsification.RANK_SAMPLED) {
            return;
        }
        for (int m = 0; m < parameters.models().size(); m++) {
            double density = parameters.number("density", m);
            double epsilon = parameters.number("epsilon", m);
            if (density < 1 && (density + epsilon >= 1 || density - epsilon <= 0)) {
                problems.add(new MergeProblem("parameters.epsilon", "density ± epsilon must lie in (0, 1) for "
                        + tensor + ": density " + density + ", epsilon " + epsilon));
                return;
            }
        }
    }

    @Override
    public float[] merge(TensorInputs tensor) {
        float[] base = tensor.base();
        float[][] deltas = tensor.experts().toArray(new float[0][]);
        TensorParameters parameters = tensor.parameters();
        int models = deltas.length;
        // Each model's delta is its own work, done in parallel; its random draws come from a generator
        // split off in model order, so results do not depend on the scheduling.
        RandomGenerator[] generators = new RandomGenerator[models];
        for (int m = 0; m < models; m++) {
            generators[m] = tensor.random().split();
        }
        boolean rescale = sparsification != null && parameters.flag("rescale");
        long[] shape = tensor.shape();
        int columns = shape.length < 2 ? base.length : (int) shape[shape.length - 1];
        IntStream.range(0, models).parallel().forEach(m -> {
            float[] delta = deltas[m];
            for (int i = 0; i < base.length; i++) {
                delta[i] -= base[i];
            }
            if (sparsification != null) {
                double gamma = sparsification == Sparsification.MAGNITUDE_OUTLIERS ? parameters.number("gamma", m) : 0;
                double epsilon = sparsification == Sparsification.RANK_SAMPLED ? parameters.number("epsilon", m) : 0;
                sparsification.apply(delta, parameters.number("density", m), gamma, epsilon, columns, rescale,
                        generators[m]);
            }
        });
        float[] weights = new float[models];
        for (int m = 0; m < models; m++) {
            weights[m] = (float) parameters.number("weight", m);
        }
        float lambda = (float) parameters.number("lambda");
        boolean normalize = parameters.flag("normalize");
        // Entries are independent: slices of the tensor are combined in parallel.
        int slices = (base.length + SLICE - 1) / SLICE;
        IntStream.range(0, slices).parallel().forEach(slice -> {
            int from = slice * SLICE;
            int to = Math.min(base.length, from + SLICE);
            if (signConsensus) {
                combineAgreeing(base, deltas, weights, lambda, normalize, from, to);
            } else {
                combineAll(base, deltas, weights, lambda, normalize, from, to);
            }
        });
        return base;
    }

    /** Entries per parallel task when combining. */
    private static final int SLICE = 1 << 18;

    /** Entries combined at a time: the per-entry sums live in arrays this long, so the loops over models stay simple. */
    private static final int CHUNK = 1024;

    /** base += λ · Σ wᵢδᵢ (/ Σ wᵢ when normalizing, unless that sum is within 1e-8 of 0), in place, for entries [from, to). */
    private static void combineAll(float[] base, float[][] deltas, float[] weights, float lambda, boolean normalize,
            int from, int to) {
        float divisor = 0;
        for (float weight : weights) {
            divisor += weight;
        }
        if (Math.abs(divisor) < 1e-8 || !normalize) {
            divisor = 1;
        }
        float[] mixed = new float[CHUNK];
        for (int start = from; start < to; start += CHUNK) {
            int length = Math.min(CHUNK, to - start);
            java.util.Arrays.fill(mixed, 0f);
            for (int m = 0; m < deltas.length; m++) {
                float weight = weights[m];
                float[] delta = deltas[m];
                for (int j = 0; j < length; j++) {
                    mixed[j] += weight * delta[start + j];
                }
            }
            for (int j = 0; j < length; j++) {
                base[start + j] += mixed[j] / divisor * lambda;
            }
        }
    }

    /**
     * TIES: the elected sign of each entry is that of Σ wᵢδᵢ (≥ 0 is +); only weighted deltas of that sign
     * (zeros never agree) are summed, and divided by the sum of their weights (or 1 when it is 0) when
     * normalizing, in place, for entries [from, to). Agreement is read from the float bits rather than
     * branched on: the signs of deltas are random, and mispredicted branches made this loop several times slower.
     */
    private static void combineAgreeing(float[] base, float[][] deltas, float[] weights, float lambda,
            boolean normalize, int from, int to) {
        float[] sum = new float[CHUNK];
        int[] elected = new int[CHUNK];
        float[] mixed = new float[CHUNK];
        float[] agreeingWeights = new float[CHUNK];
        int one = Float.floatToRawIntBits(1f);
        for (int start = from; start < to; start += CHUNK) {
            int length = Math.min(CHUNK, to - start);
            java.util.Arrays.fill(sum, 0f);
            java.util.Arrays.fill(mixed, 0f);
            java.util.Arrays.fill(agreeingWeights, 0f);
            for (int m = 0; m < deltas.length; m++) {
                float weight = weights[m];
                float[] delta = deltas[m];
                for (int j = 0; j < length; j++) {
                    sum[j] += weight * delta[start + j];
                }
            }
            // The sum starts at +0 and +0 + -0 = +0, so it is never -0: its sign bit is the election (set: −).
            for (int j = 0; j < length; j++) {
                elected[j] = Float.floatToRawIntBits(sum[j]);
            }
            for (int m = 0; m < deltas.length; m++) {
                float weight = weights[m];
                int weightBits = Float.floatToRawIntBits(weight);
                float[] delta = deltas[m];
                for (int j = 0; j < length; j++) {
                    int bits = Float.floatToRawIntBits(weight * delta[start + j]);
                    int agrees = ~((bits ^ elected[j]) >> 31);                               // same sign bit
                    int nonzero = ((bits & 0x7fffffff) + 0x7fffffff) >> 31;                  // all ones where ≠ ±0
                    mixed[j] += Float.intBitsToFloat(bits & agrees);                         // ±0 adds nothing
                    agreeingWeights[j] += Float.intBitsToFloat(weightBits & agrees & nonzero);
                }
            }
            for (int j = 0; j < length; j++) {
                float merged = mixed[j];
                if (normalize) {
                    float divisor = agreeingWeights[j];
                    int zero = ((Float.floatToRawIntBits(divisor) & 0x7fffffff) - 1) >> 31;  // all ones where 0
                    merged /= divisor + Float.intBitsToFloat(one & zero);                  // 1 where nothing agreed
                }
                base[start + j] += merged * lambda;
            }
        }
    }
}
