package dev.consort.merge.weights;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import org.junit.jupiter.api.Test;

/** Each method on small tensors whose results are worked out by hand in the comments. */
class MergeMethodsTest {

    private static final String TENSOR = "h.0.mlp.c_fc.weight";

    /** Runs {@code method} on copies of the arrays, its parameters resolved through a validated request as a job would. */
    static float[] merge(String method, Map<String, ?> parameters, List<Map<String, ?>> modelParameters, long seed,
            long[] shape, float[] base, float[]... models) throws InvalidMergeException {
        List<MergeProblem> problems = new ArrayList<>();
        List<WeightMergeRequest.ModelEntry> entries = new ArrayList<>();
        for (int i = 0; i < models.length; i++) {
            Map<String, ?> own = i < modelParameters.size() ? modelParameters.get(i) : Map.of();
            entries.add(new WeightMergeRequest.ModelEntry("model-" + i, WeightMergeRequest.parameters(own, "m", problems)));
        }
        WeightMergeRequest request = new WeightMergeRequest(method, base == null ? null : "base", entries,
                WeightMergeRequest.parameters(parameters, "p", problems));
        assertThat(problems).isEmpty();
        MergeRecipe recipe = MergeRecipe.of(request);
        List<float[]> copies = new ArrayList<>();
        for (float[] model : models) {
            copies.add(model.clone());
        }
        return recipe.method().merge(new TensorInputs(TENSOR, shape, 0, copies, base == null ? null : base.clone(),
                recipe.parametersFor(TENSOR, 0, 1), TensorInputs.random(seed, TENSOR)));
    }

    static float[] merge(String method, Map<String, ?> parameters, List<Map<String, ?>> modelParameters, float[] base,
            float[]... models) throws InvalidMergeException {
        return merge(method, parameters, modelParameters, 0, new long[] {models[0].length}, base, models);
    }

    static float[] random(int n, long seed) {
        Random random = new Random(seed);
        float[] values = new float[n];
        for (int i = 0; i < n; i++) {
            values[i] = (float) random.nextGaussian() * 0.1f;
        }
        return values;
    }

    /** base + small noise: a fine-tuned copy. */
    static float[] near(float[] base, long seed) {
        float[] noise = random(base.length, seed);
        float[] values = base.clone();
        for (int i = 0; i < values.length; i++) {
            values[i] += noise[i] * 0.1f;
        }
        return values;
    }

    private static int[] bits(float[] values) {
        int[] bits = new int[values.length];
        for (int i = 0; i < values.length; i++) {
            bits[i] = Float.floatToRawIntBits(values[i]);
        }
        return bits;
    }

    // --- linear and lerp

    @Test
    void linearWithWeightsOneAndZeroReturnsTheFirstModelBitForBit() throws Exception {
        float[] a = random(1000, 1);
        a[3] = -0.0f;
        a[4] = 0.0f;
        a[5] = Float.MIN_VALUE;
        float[] b = random(1000, 2);
        float[] merged = merge("linear", Map.of(), List.of(Map.of("weight", 1), Map.of("weight", 0)), null, a, b);
        assertThat(bits(merged)).isEqualTo(bits(a));
        float[] unnormalized = merge("linear", Map.of("normalize", false),
                List.of(Map.of("weight", 1.0), Map.of("weight", 0.0)), null, a, b);
        assertThat(bits(unnormalized)).isEqualTo(bits(a));
    }

    @Test
    void linearIsTheWeightedMeanOrSum() throws Exception {
        float[] a = {1, 2, -4};
        float[] b = {3, 6, 8};
        // normalize: (1·a + 3·b) / 4 = [10/4, 20/4, 20/4]
        assertThat(merge("linear", Map.of(), List.of(Map.of("weight", 1), Map.of("weight", 3)), null, a, b))
                .containsExactly(2.5f, 5f, 5f);
        // without: 1·a + 3·b
        assertThat(merge("linear", Map.of("normalize", false), List.of(Map.of("weight", 1), Map.of("weight", 3)), null, a, b))
                .containsExactly(10f, 20f, 20f);
        // a top-level weight applies to every model: (a + b) / 2
        assertThat(merge("linear", Map.of("weight", 0.5), List.of(), null, a, b)).containsExactly(2f, 4f, 2f);
    }

    @Test
    void lerpReturnsTheFirstModelAtZeroAndInterpolates() throws Exception {
        float[] a = random(100, 3);
        a[0] = -0.0f;
        float[] b = random(100, 4);
        assertThat(bits(merge("lerp", Map.of("t", 0), List.of(), null, a, b))).isEqualTo(bits(a));
        assertThat(bits(merge("lerp", Map.of("t", 1), List.of(), null, a, b))).isEqualTo(bits(b));
        // 0.75·[0, 4] + 0.25·[8, 0] = [2, 3]
        assertThat(merge("lerp", Map.of("t", 0.25), List.of(), null, new float[] {0, 4}, new float[] {8, 0}))
                .containsExactly(2f, 3f);
    }

    // --- slerp

    @Test
    void slerpOfAModelWithItselfReturnsIt() throws Exception {
        float[] a = random(5000, 5);
        for (double t : new double[] {0, 0.3, 0.5, 1}) {
            assertThat(merge("slerp", Map.of("t", t), List.of(), null, a, a)).isEqualTo(a);
        }
    }

    @Test
    void slerpFollowsTheArcBetweenTheUnnormalisedTensors() throws Exception {
        // v0 = (2, 0), v1 = (0, 4): normalised they are orthogonal, θ0 = π/2, sin θ0 = 1;
        // at t = 1/2: s0 = s1 = sin(π/4) = √2/2, so the result is (2·√2/2, 4·√2/2) = (√2, 2√2).
        float[] merged = merge("slerp", Map.of("t", 0.5), List.of(), null, new float[] {2, 0}, new float[] {0, 4});
        assertThat(merged[0]).isCloseTo((float) Math.sqrt(2), within(1e-6f));
        assertThat(merged[1]).isCloseTo((float) (2 * Math.sqrt(2)), within(1e-6f));
        // At t = 1/3: θt = π/6, s0 = sin(π/2 − π/6) = √3/2, s1 = sin(π/6) = 1/2: (√3, 2).
        merged = merge("slerp", Map.of("t", 1.0 / 3), List.of(), null, new float[] {2, 0}, new float[] {0, 4});
        assertThat(merged[0]).isCloseTo((float) Math.sqrt(3), within(1e-6f));
        assertThat(merged[1]).isCloseTo(2f, within(1e-6f));
        // The ends are the models.
        assertThat(merge("slerp", Map.of("t", 0), List.of(), null, new float[] {2, 0}, new float[] {0, 4}))
                .containsExactly(2f, 0f);
        assertThat(merge("slerp", Map.of("t", 1), List.of(), null, new float[] {2, 0}, new float[] {0, 4}))
                .containsExactly(0f, 4f);
    }

    @Test
    void slerpOfNearlyColinearTensorsLerps() throws Exception {
        // (1, 2) and (2, 4.002) have normalised dot > 0.9995: lerp at t = 1/2 gives their mean.
        float[] merged = merge("slerp", Map.of("t", 0.5), List.of(), null, new float[] {1, 2}, new float[] {2, 4.002f});
        assertThat(merged[0]).isCloseTo(1.5f, within(1e-6f));
        assertThat(merged[1]).isCloseTo(3.001f, within(1e-6f));
    }

    // --- task arithmetic and TIES

    @Test
    void taskArithmeticAddsTheWeightedDeltasTimesLambda() throws Exception {
        float[] base = {1, 1, 1};
        float[] a = {2, 1, 0};      // δ = ( 1, 0, -1)
        float[] b = {1, 3, 1.5f};   // δ = ( 0, 2, 0.5)
        // base + 0.5·(1·δa + 2·δb) = 1 + 0.5·(1, 4, 0) = (1.5, 3, 1)
        assertThat(merge("task_arithmetic", Map.of("lambda", 0.5), List.of(Map.of("weight", 1), Map.of("weight", 2)), base, a, b))
                .containsExactly(1.5f, 3f, 1f);
        // normalize divides by Σw = 3: 1 + (1, 4, 0)/3
        float[] normalized = merge("task_arithmetic", Map.of("normalize", true),
                List.of(Map.of("weight", 1), Map.of("weight", 2)), base, a, b);
        assertThat(normalized[1]).isCloseTo(1 + 4f / 3, within(1e-6f));
    }

    @Test
    void tiesWithDensityOneAndOneModelEqualsTaskArithmetic() throws Exception {
        float[] base = random(10_000, 6);
        float[] expert = near(base, 7);
        for (int i = 0; i < 100; i++) {
            expert[i * 7] = base[i * 7]; // some zero deltas
        }
        assertThat(merge("ties", Map.of("density", 1), List.of(Map.of("weight", 1)), base, expert))
                .isEqualTo(merge("task_arithmetic", Map.of(), List.of(Map.of("weight", 1)), base, expert));
        // With another weight the normalized forms agree: base + wδ/w.
        assertThat(merge("ties", Map.of(), List.of(Map.of("weight", 0.4)), base, expert))
                .isEqualTo(merge("task_arithmetic", Map.of("normalize", true), List.of(Map.of("weight", 0.4)), base, expert));
    }

    /** Base 1 everywhere; the three deltas below (exact in binary, so every sum is exact). */
    private static final float[] TIES_BASE = {1, 1, 1, 1};
    private static final float[] DELTA_1 = {0.5f, -0.25f, 0.25f, 0.75f};
    private static final float[] DELTA_2 = {0.25f, -0.75f, -0.5f, 0.125f};
    private static final float[] DELTA_3 = {-1.0f, 0.5f, 0.25f, -0.125f};

    private static float[] plusBase(float[] delta) {
        float[] values = new float[delta.length];
        for (int i = 0; i < delta.length; i++) {
            values[i] = TIES_BASE[i] + delta[i];
        }
        return values;
    }

    @Test
    void tiesElectsSignsAndAveragesTheAgreeingDeltas() throws Exception {
        float[][] experts = {plusBase(DELTA_1), plusBase(DELTA_2), plusBase(DELTA_3)};
        // Σδ per entry: -0.25 (−), -0.5 (−), 0.0 (+: zero counts as +), 0.75 (+).
        // entry 0: only δ3 = -1 is negative           → -1/1                 → 1 - 1     = 0
        // entry 1: δ1 = -0.25 and δ2 = -0.75 agree     → -1/2 = -0.5          → 1 - 0.5   = 0.5
        // entry 2: δ1 = 0.25 and δ3 = 0.25 agree       → 0.5/2 = 0.25         → 1.25
        // entry 3: δ1 = 0.75 and δ2 = 0.125 agree      → 0.875/2 = 0.4375     → 1.4375
        assertThat(merge("ties", Map.of("weight", 1), List.of(), TIES_BASE, experts))
                .containsExactly(0f, 0.5f, 1.25f, 1.4375f);
        // normalize false, λ = 0.5: the agreeing sums halved: -0.5, -0.5, 0.25, 0.4375
        assertThat(merge("ties", Map.of("weight", 1, "normalize", false, "lambda", 0.5), List.of(), TIES_BASE, experts))
                .containsExactly(0.5f, 0.5f, 1.25f, 1.4375f);
    }

    @Test
    void tiesKeepsTheLargestDeltasBeforeElectingSigns() throws Exception {
        float[][] experts = {plusBase(DELTA_1), plusBase(DELTA_2), plusBase(DELTA_3)};
        // density 0.5 keeps ⌊0.5·4⌋ = 2 entries of each delta, the largest in magnitude:
        // δ1 → (0.5, 0, 0, 0.75); δ2 → (0, -0.75, -0.5, 0); δ3 → (-1, 0.5, 0, 0).
        // Σ: -0.5 (−), -0.25 (−), -0.5 (−), 0.75 (+)
        // entry 0: δ3 = -1 → 0; entry 1: δ2 = -0.75 → 0.25; entry 2: δ2 = -0.5 → 0.5; entry 3: δ1 = 0.75 → 1.75
        assertThat(merge("ties", Map.of("weight", 1, "density", 0.5), List.of(), TIES_BASE, experts))
                .containsExactly(0f, 0.25f, 0.5f, 1.75f);
    }

    @Test
    void tiesWeighsTheSignElectionAndTheAverage() throws Exception {
        float[][] experts = {plusBase(DELTA_1), plusBase(DELTA_2), plusBase(DELTA_3)};
        // weights (2, 1, 1): Σwδ = 1 + 0.25 - 1 = 0.25 (+) for entry 0, so δ1 and δ2 agree:
        // (2·0.5 + 1·0.25) / (2 + 1) = 1.25/3, and the base adds 1.
        float[] merged = merge("ties", Map.of(), List.of(Map.of("weight", 2), Map.of("weight", 1), Map.of("weight", 1)),
                TIES_BASE, experts);
        assertThat(merged[0]).isCloseTo(1 + 1.25f / 3, within(1e-6f));
    }

    @Test
    void tiesMatchesAnEntryByEntryReading() throws Exception {
        // Deltas in multiples of 1/64 (every sum exact), a third of them zero, and a negative weight:
        // the bit-level election must agree with the plain definition, entry by entry.
        Random random = new Random(11);
        int n = 5000;
        float[] base = new float[n];
        float[][] experts = new float[3][n];
        float[] weights = {1f, -0.5f, 0.75f};
        for (int i = 0; i < n; i++) {
            base[i] = random.nextInt(64) / 64f;
            for (int m = 0; m < 3; m++) {
                experts[m][i] = base[i] + (random.nextInt(3) == 0 ? 0 : (random.nextInt(33) - 16) / 64f);
            }
        }
        for (boolean normalize : new boolean[] {true, false}) {
            float[] merged = merge("ties", Map.of("normalize", normalize, "lambda", 0.5),
                    List.of(Map.of("weight", 1), Map.of("weight", -0.5), Map.of("weight", 0.75)), base, experts);
            for (int i = 0; i < n; i++) {
                float sum = 0;
                for (int m = 0; m < 3; m++) {
                    sum += weights[m] * (experts[m][i] - base[i]);
                }
                float mixed = 0;
                float divisor = 0;
                for (int m = 0; m < 3; m++) {
                    float weighted = weights[m] * (experts[m][i] - base[i]);
                    if (sum >= 0 ? weighted > 0 : weighted < 0) {
                        mixed += weighted;
                        divisor += weights[m];
                    }
                }
                if (normalize) {
                    mixed /= divisor == 0 ? 1 : divisor;
                }
                assertThat(merged[i]).as("entry %d", i).isEqualTo(base[i] + mixed * 0.5f);
            }
        }
    }

    @Test
    void dareTiesAtDensityOneIsTies() throws Exception {
        float[] base = random(1000, 8);
        float[] a = near(base, 9);
        float[] b = near(base, 10);
        assertThat(merge("dare_ties", Map.of("weight", 0.5, "density", 1, "normalize", true), List.of(), base, a, b))
                .isEqualTo(merge("ties", Map.of("weight", 0.5), List.of(), base, a, b));
    }

    // --- DARE

    @Test
    void dareKeepsAboutDensityOfTheEntriesRescaledAndIsReproducible() throws Exception {
        int n = 1_000_000;
        double density = 0.3;
        float[] base = new float[n];
        float[] expert = new float[n];
        for (int i = 0; i < n; i++) {
            expert[i] = 1 + i % 7;
        }
        Map<String, Object> parameters = Map.of("weight", 1, "density", density);
        float[] merged = merge("dare_linear", parameters, List.of(), 42, new long[] {n}, base, expert);
        int kept = 0;
        for (int i = 0; i < n; i++) {
            if (merged[i] != 0) {
                kept++;
                // kept entries are rescaled by 1/density
                assertThat(merged[i]).isEqualTo(expert[i] * (float) (1 / density));
            }
        }
        assertThat((double) kept / n).isCloseTo(density, within(0.01 * density));
        // isEqualTo, not containsExactly: AssertJ's element diff is quadratic on a million entries
        assertThat(merge("dare_linear", parameters, List.of(), 42, new long[] {n}, base, expert)).isEqualTo(merged);
        assertThat(merge("dare_linear", parameters, List.of(), 43, new long[] {n}, base, expert)).isNotEqualTo(merged);
        assertThat(merge("dare_ties", parameters, List.of(), 42, new long[] {n}, base, expert)).isEqualTo(merged);
    }

    @Test
    void eachTensorDrawsFromItsOwnSeed() {
        assertThat(TensorInputs.random(1, "h.0.mlp.c_fc.weight").nextLong())
                .isEqualTo(TensorInputs.random(1, "h.0.mlp.c_fc.weight").nextLong())
                .isNotEqualTo(TensorInputs.random(1, "h.1.mlp.c_fc.weight").nextLong())
                .isNotEqualTo(TensorInputs.random(2, "h.0.mlp.c_fc.weight").nextLong());
    }

    // --- breadcrumbs

    @Test
    void breadcrumbsDropsTheLargestGammaAndTheSmallestToLeaveDensity() throws Exception {
        float[] base = new float[10];
        java.util.Arrays.fill(base, 0.5f);
        // δ = (1, -9, 3, 7, -2, 5, 10, -4, 6, 8) / 16; magnitudes ascending: 1 (#0), 2 (#4), 3 (#2), 4 (#7),
        // 5 (#5), 6 (#8), 7 (#3), 8 (#9), 9 (#1), 10 (#6).
        float[] delta = {1, -9, 3, 7, -2, 5, 10, -4, 6, 8};
        float[] expert = new float[10];
        for (int i = 0; i < 10; i++) {
            expert[i] = base[i] + delta[i] / 16;
        }
        // density 0.5, gamma 0.2 on 10 entries: keep 5, drop the 2 largest (#6, #1) and the 10 − 5 − 2 = 3
        // smallest (#0, #4, #2); #3, #5, #7, #8, #9 remain. weight 1, no normalization: base + kept δ.
        float[] merged = merge("breadcrumbs", Map.of("weight", 1, "density", 0.5, "gamma", 0.2), List.of(), base, expert);
        float[] expected = base.clone();
        for (int i : new int[] {3, 5, 7, 8, 9}) {
            expected[i] += delta[i] / 16;
        }
        assertThat(merged).containsExactly(expected);
        // density 0.9, gamma 0.2: keeping 9 leaves room to drop only 10 − 9 = 1 large entry (#6) and no small one.
        merged = merge("breadcrumbs", Map.of("weight", 1, "density", 0.9, "gamma", 0.2), List.of(), base, expert);
        expected = expert.clone();
        expected[6] = base[6];
        assertThat(merged).containsExactly(expected);
        // gamma defaults to 0.01: ⌊0.1⌋ = 0 large entries dropped, the 5 smallest go.
        merged = merge("breadcrumbs", Map.of("weight", 1, "density", 0.5), List.of(), base, expert);
        expected = base.clone();
        for (int i : new int[] {3, 9, 1, 6, 8}) {
            expected[i] += delta[i] / 16;
        }
        assertThat(merged).containsExactly(expected);
    }

    @Test
    void breadcrumbsTiesAddsTheSignElection() throws Exception {
        float[] base = {0, 0};
        // Both keep everything (density 1). Entry 0: δ = (1, -3): Σ = -2, only -3 agrees; normalize true → -3.
        // Entry 1: δ = (2, 2): both agree → (2 + 2) / 2 = 2.
        assertThat(merge("breadcrumbs_ties", Map.of("weight", 1, "normalize", true), List.of(), base,
                new float[] {1, 2}, new float[] {-3, 2})).containsExactly(-3f, 2f);
    }

    // --- model stock

    @Test
    void modelStockInterpolatesByTheAngleBetweenTheOffsets() throws Exception {
        float[] base = {1, 1};
        // Offsets (1, 0) and (1, 1): cos θ = 1/√2; k = 2: t = 2cos/(1 + cos) = 2(√2 − 1).
        // Mean of the models (2, 1), (2, 2) is (2, 1.5): t·(2, 1.5) + (1 − t)·(1, 1) = (1 + t, 1 + t/2).
        double t = 2 * (Math.sqrt(2) - 1);
        float[] merged = merge("model_stock", Map.of(), List.of(), base, new float[] {2, 1}, new float[] {2, 2});
        assertThat(merged[0]).isCloseTo((float) (1 + t), within(1e-6f));
        assertThat(merged[1]).isCloseTo((float) (1 + t / 2), within(1e-6f));
        // Three models, offsets (1, 0), (1, 1), (0, 1): pairwise cosines 1/√2, 0, 1/√2, mean √2/3;
        // k = 3: t = 3c/(1 + 2c). Mean model (5/3, 5/3): result 1 + t·2/3 in both entries.
        double c = Math.sqrt(2) / 3;
        double t3 = 3 * c / (1 + 2 * c);
        merged = merge("model_stock", Map.of(), List.of(), base, new float[] {2, 1}, new float[] {2, 2}, new float[] {1, 2});
        assertThat(merged[0]).isCloseTo((float) (1 + t3 * 2 / 3), within(1e-6f));
        assertThat(merged[1]).isCloseTo((float) (1 + t3 * 2 / 3), within(1e-6f));
    }

    @Test
    void modelStockKeepsTheBaseWhereTheModelsDidNotMoveAndFilterWiseWorksPerRow() throws Exception {
        float[] base = {0.5f, -0.25f, 3, 4};
        // No offsets: cos θ = 0/max(0, 1e-6) = 0, t = 0: the base, exactly.
        assertThat(merge("model_stock", Map.of(), List.of(), base, base, base)).containsExactly(base);
        // A 2×2 tensor, filter_wise: row 0 offsets (1, 0) and (1, 1) as above; row 1 offsets (1, 0) and
        // (0, 1) are orthogonal, so t = 0 and row 1 stays the base's.
        float[] a = {1.5f, -0.25f, 4, 4};
        float[] b = {1.5f, 0.75f, 3, 5};
        float[] merged = merge("model_stock", Map.of("filter_wise", true), List.of(), 0, new long[] {2, 2}, base, a, b);
        double t = 2 * (Math.sqrt(2) - 1);
        assertThat(merged[0]).isCloseTo((float) (0.5 + t), within(1e-6f));
        assertThat(merged[1]).isCloseTo((float) (-0.25 + t / 2), within(1e-6f));
        assertThat(merged[2]).isEqualTo(3f);
        assertThat(merged[3]).isEqualTo(4f);
    }

    @Test
    void everyMethodIsRegisteredByItsName() {
        assertThat(WeightMergeMethods.names()).containsExactly("linear", "lerp", "slerp", "task_arithmetic", "ties",
                "dare_linear", "dare_ties", "breadcrumbs", "breadcrumbs_ties", "model_stock", "della", "della_linear",
                "nearswap", "karcher", "sce");
        Map<String, Object> defaults = new LinkedHashMap<>();
        for (WeightMergeMethod method : WeightMergeMethods.all()) {
            method.parameters().forEach(p -> defaults.put(method.name() + "." + p.name(), p.defaultValue()));
        }
        // mergekit's defaults
        assertThat(defaults).containsEntry("linear.normalize", true)
                .containsEntry("task_arithmetic.normalize", false).containsEntry("task_arithmetic.lambda", 1.0)
                .containsEntry("ties.normalize", true).containsEntry("ties.density", 1.0)
                .containsEntry("dare_ties.normalize", false).containsEntry("dare_ties.rescale", true)
                .containsEntry("dare_linear.rescale", true).containsEntry("breadcrumbs.gamma", 0.01)
                .containsEntry("karcher.max_iter", 10.0).containsEntry("karcher.tol", 1e-5)
                .containsEntry("sce.select_topk", 1.0).containsEntry("nearswap.t", null)
                .containsEntry("della.epsilon", 0.15).containsEntry("della.normalize", true)
                .containsEntry("della_linear.normalize", false).containsEntry("della_linear.rescale", true)
                .containsEntry("breadcrumbs.normalize", false).containsEntry("model_stock.filter_wise", false);
    }

    @Test
    void nearswapTakesTheOtherModelWhereTheyAreCloseAndFallsOffAsTOverTheDifference() throws Exception {
        float[] base = {0, 1, 0, 3};
        float[] other = {0.5f, 1, 0.001f, 2};
        // Differences 0.5, 0, 0.001, 1 at t = 0.1: weights 0.2, 1 (the 1e-6 clamp), 1, 0.1.
        float[] merged = merge("nearswap", Map.of("t", 0.1), List.of(), null, base, other);
        assertThat(merged[0]).isCloseTo(0.1f, within(1e-6f));
        assertThat(merged[1]).isEqualTo(1f);
        assertThat(merged[2]).isEqualTo(0.001f);
        assertThat(merged[3]).isCloseTo(0.1f * 2 + 0.9f * 3, within(1e-6f));
        assertThat(bits(merge("nearswap", Map.of("t", 0), List.of(), null, base, other))).isEqualTo(bits(base));
    }

    @Test
    void karcherFindsTheGeodesicMeanOfTheDirectionsScaledByTheMeanNorm() throws Exception {
        // Directions at 0°, 0° and 90°: their geodesic mean on the circle is at 30°, where the normalised
        // arithmetic mean would give atan(1/2) = 26.57°. Norms 1, 1 and 1: the result has norm 1.
        float[] merged = merge("karcher", Map.of(), List.of(), null, new float[] {1, 0}, new float[] {1, 0},
                new float[] {0, 1});
        assertThat(merged[0]).isCloseTo((float) Math.cos(Math.PI / 6), within(1e-5f));
        assertThat(merged[1]).isCloseTo((float) Math.sin(Math.PI / 6), within(1e-5f));
        // Norms 2 and 4 at 0° and 90°: 45°, scaled by the mean norm 3.
        merged = merge("karcher", Map.of(), List.of(), null, new float[] {2, 0}, new float[] {0, 4});
        assertThat(merged[0]).isCloseTo((float) (3 / Math.sqrt(2)), within(1e-5f));
        assertThat(merged[1]).isCloseTo((float) (3 / Math.sqrt(2)), within(1e-5f));
        // A zero tensor takes no part in the direction but halves the mean norm.
        merged = merge("karcher", Map.of(), List.of(), null, new float[] {0, 4}, new float[] {0, 0});
        assertThat(merged).containsExactly(0f, 2f);
        float[] a = {0.5f, -1.25f, 3f};
        assertThat(merge("karcher", Map.of(), List.of(), null, a, a.clone())).containsExactly(a);
    }

    @Test
    void sceWeighsByMeanSquaredDeltaAndEraseTheDisagreeingSigns() throws Exception {
        float[] base = {1, 1, 1, 1};
        float[] a = {2, 0, 3, 1};                                   // deltas  1, -1,  2, 0
        float[] b = {4, 2, -1, 1};                                  // deltas  3,  1, -2, 0
        // Weights: mean squared deltas 1.5 and 3.5, so 0.3 and 0.7. Signs by the plain sum (0 counts as +):
        // entry 0 both (0.3·1 + 0.7·3) / 1 = 2.4; entry 1 only b, 1; entry 2 only a, 2; entry 3 none, 0.
        float[] merged = merge("sce", Map.of(), List.of(), base, a, b);
        assertThat(merged[0]).isCloseTo(3.4f, within(1e-6f));
        assertThat(merged).containsSubsequence(2f, 3f, 1f);
        // select_topk 0.5: variances across the models 1, 1, 4, 0; three are non-zero, so ⌊1.5⌋ = 1 entry stays
        // (entry 2), where a's +2 wins the election at sum 0 with weight 0.5 of 0.5.
        assertThat(merge("sce", Map.of("select_topk", 0.5), List.of(), base, a, b)).containsExactly(1f, 1f, 3f, 1f);
    }

    @Test
    void dellaKeepsLargerEntriesLikelierAndTheSeedFixesTheDraw() throws Exception {
        // One row of 1000 deltas of magnitudes 1 … 1000 (alternating signs): at density 0.5, epsilon 0.4 the k-th
        // smallest is kept with probability 0.1 + 0.8·(k − 1)/999, so about 14 of the smallest hundred and 86 of
        // the largest hundred stay, 500 of all (standard deviations about 3.5 and 16).
        int n = 1000;
        float[] base = new float[n];
        float[] expert = new float[n];
        for (int i = 0; i < n; i++) {
            expert[i] = (i % 2 == 0 ? 1 : -1) * (i + 1);
        }
        Map<String, Object> thinning = Map.of("weight", 1, "density", 0.5, "epsilon", 0.4);
        float[] merged = merge("della_linear", Map.of("rescale", false), List.of(thinning), 7, new long[] {1, n}, base,
                expert);
        int smallest = 0;
        int largest = 0;
        int kept = 0;
        for (int i = 0; i < n; i++) {
            if (merged[i] != 0) {
                assertThat(merged[i]).isEqualTo(expert[i]);
                kept++;
                smallest += i < 100 ? 1 : 0;
                largest += i >= n - 100 ? 1 : 0;
            }
        }
        assertThat(smallest).isBetween(2, 30);
        assertThat(largest).isBetween(70, 98);
        assertThat(kept).isBetween(440, 560);
        // The same seed draws the same mask; another seed another one.
        assertThat(merge("della_linear", Map.of("rescale", false), List.of(thinning), 7, new long[] {1, n}, base, expert))
                .containsExactly(merged);
        assertThat(merge("della_linear", Map.of("rescale", false), List.of(thinning), 8, new long[] {1, n}, base, expert))
                .isNotEqualTo(merged);
        // rescale (the default) scales what is kept back to the delta's L1 norm.
        float[] rescaled = merge("della_linear", Map.of(), List.of(thinning), 7, new long[] {1, n}, base, expert);
        double l1 = 0;
        for (float value : rescaled) {
            l1 += Math.abs(value);
        }
        assertThat(l1).isCloseTo(n * (n + 1) / 2.0, within(1.0));
    }

    @Test
    void dellaRefusesAnEpsilonThatPushesAProbabilityOutOfTheUnitInterval() {
        List<MergeProblem> problems = new ArrayList<>();
        WeightMergeMethods.byName("della").orElseThrow().check(TENSOR, new TensorParameters(Map.of("lambda", 1.0,
                "normalize", true, "rescale", true, "int8_mask", false), List.of(Map.of("weight", 1.0, "density", 0.9,
                "epsilon", 0.15))), problems);
        assertThat(problems).singleElement().satisfies(p -> assertThat(p.field()).isEqualTo("parameters.epsilon"));
    }
}
