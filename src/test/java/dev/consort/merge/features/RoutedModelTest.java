package dev.consort.merge.features;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.tuple;
import static org.assertj.core.api.Assertions.within;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.consort.engine.Evaluator;
import dev.consort.engine.Gpt2Config;
import dev.consort.engine.Gpt2Model;
import dev.consort.engine.TokenSequence;

/** Routed models without training: exact equalities, the mixing rules and persistence. */
class RoutedModelTest {

    /** 3 layers (so windows can slide), width 16, 2 heads, vocabulary 64, 16 positions. */
    private static final Gpt2Config CONFIG = new Gpt2Config(3, 16, 2, 64, 64, 16, 1e-5);
    private static final int CONTEXT = 16;
    private static final TokenSequence TEXT =
            TokenSequence.of(new SplittableRandom(3).ints(16 * 6 + 1, 0, 64).toArray());

    private static Gpt2Model base;
    private static Gpt2Model expertA;
    private static Gpt2Model expertB;
    private static Gpt2Model expertC;

    @TempDir
    Path dir;

    /** The base with its MLP weights moved by noise: a "specialist" sharing every non-MLP weight with the base. */
    private static Gpt2Model specialist(long seed) {
        Gpt2Model model = Gpt2Model.randomInit(CONFIG, 1, Device.cpu());
        SplittableRandom random = new SplittableRandom(seed);
        model.parameters().forEach((name, parameter) -> {
            if (name.contains(".mlp.")) {
                float[] noise = new float[Math.toIntExact(parameter.size())];
                for (int i = 0; i < noise.length; i++) {
                    noise[i] = (float) (random.nextGaussian() * 0.05);
                }
                try (NDArray delta = model.manager().create(noise, parameter.getShape())) {
                    parameter.addi(delta);
                }
            }
        });
        return model;
    }

    @BeforeAll
    static void models() {
        base = Gpt2Model.randomInit(CONFIG, 1, Device.cpu());
        expertA = specialist(10);
        expertB = specialist(20);
        expertC = specialist(30);
    }

    @AfterAll
    static void close() {
        for (Gpt2Model model : List.of(base, expertA, expertB, expertC)) {
            model.close();
        }
    }

    private static double loss(Gpt2Model model) {
        return Evaluator.evaluate(model, TEXT, CONTEXT, 100, 4).loss();
    }

    private static double loss(RoutedModel routed) {
        return routed.evaluate(TEXT, CONTEXT, 100, 4).loss();
    }

    @Test
    void aRoutedModelWithOneExpertHasExactlyThatExpertsLoss() {
        double expected = loss(expertA);
        List<RoutingSpec> specs = List.of(
                RoutingSpec.layerRouting(RouterKind.LINEAR),
                RoutingSpec.layerRouting(RouterKind.MLP).withTopK(1),
                RoutingSpec.singleRouter(RouterKind.LINEAR),
                RoutingSpec.singleRouter(RouterKind.MLP),
                RoutingSpec.multiLayerRouting(RouterKind.LINEAR, 1),
                RoutingSpec.multiLayerRouting(RouterKind.MLP, 1).withSeed(5));
        for (RoutingSpec spec : specs) {
            try (RoutedModel routed = RoutedModel.create(spec, null, List.of(expertA))) {
                assertThat(routed.shared()).isSameAs(expertA);
                assertThat(loss(routed)).as(spec.toString()).isEqualTo(expected);
            }
        }
        // With a base sharing the expert's non-MLP weights, the base's forward carries the expert's MLPs.
        try (RoutedModel routed = RoutedModel.create(RoutingSpec.layerRouting(RouterKind.LINEAR), base,
                List.of(expertA))) {
            assertThat(routed.shared()).isSameAs(base);
            assertThat(loss(routed)).isEqualTo(expected);
        }
    }

    @Test
    void activationInterpolationAtOneIsExpertAAndAtZeroIsExpertB() {
        double lossA = loss(expertA);
        double lossB = loss(expertB);
        assertThat(lossA).isNotEqualTo(lossB);
        for (Gpt2Model shared : new Gpt2Model[] {null, base}) {
            try (RoutedModel one = RoutedModel.create(RoutingSpec.activationInterpolation(1), shared,
                    List.of(expertA, expertB));
                    RoutedModel zero = RoutedModel.create(RoutingSpec.activationInterpolation(0), shared,
                            List.of(expertA, expertB))) {
                assertThat(loss(one)).isEqualTo(lossA);
                assertThat(loss(zero)).isEqualTo(lossB);
                assertThat(one.routerParameters()).isEmpty();
            }
        }
        try (RoutedModel half = RoutedModel.create(RoutingSpec.activationInterpolation(0.5), null,
                List.of(expertA, expertB))) {
            assertThat(loss(half)).isNotIn(lossA, lossB);
        }
    }

    @Test
    void theAlphaSearchKeepsTheWholeCurveAndItsEndsAreTheExperts() {
        AlphaSearch.Result result = AlphaSearch.search(null, expertA, expertB, AlphaSearch.DEFAULT_GRID, TEXT, CONTEXT,
                100, 4, new AlphaSearch.Listener() {});
        assertThat(result.curve()).extracting(AlphaSearch.Point::alpha)
                .containsExactly(0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0);
        assertThat(result.curve().get(0).result().loss()).isEqualTo(loss(expertB));
        assertThat(result.curve().get(10).result().loss()).isEqualTo(loss(expertA));
        double lowest = result.curve().stream().mapToDouble(point -> point.result().loss()).min().orElseThrow();
        assertThat(result.best().result().loss()).isEqualTo(lowest);
        assertThat(result.bestSpec().alpha()).isEqualTo(result.best().alpha());
        assertThat(result.best().result().tokens()).isEqualTo(6L * CONTEXT);
    }

    /**
     * The override's output at one layer, against the mixture computed here on the host from the router's
     * weight and each expert's MLP output: softmax, the top-k kept and renormalised, a weighted sum per token.
     */
    @Test
    void routersMixTheExpertsPerTokenAndTopOneChoosesOneExpert() {
        int tokens = 12;
        int layer = 1;
        for (Integer topK : new Integer[] {null, 2, 1}) {
            RoutingSpec spec = RoutingSpec.layerRouting(RouterKind.LINEAR).withTopK(topK).withSeed(7);
            try (RoutedModel routed = RoutedModel.create(spec, base, List.of(expertA, expertB, expertC));
                    NDManager scope = base.manager().newSubManager()) {
                float[] input = new float[tokens * CONFIG.nEmbd()];
                SplittableRandom random = new SplittableRandom(8);
                for (int i = 0; i < input.length; i++) {
                    input[i] = (float) random.nextGaussian();
                }
                NDArray normed = scope.create(input, new Shape(1, tokens, CONFIG.nEmbd()));
                float[] actual = routed.newPass().mlp(layer, normed, normed).toFloatArray();
                float[][] outputs = new float[3][];
                List<Gpt2Model> experts = List.of(expertA, expertB, expertC);
                for (int e = 0; e < 3; e++) {
                    outputs[e] = experts.get(e).mlp(layer, normed).toFloatArray();
                }
                float[] router = routed.routerParameters().get("router.layer.1.linear.weight").toFloatArray(); // [3, C]
                int c = CONFIG.nEmbd();
                int chosenByAll = 0;
                for (int t = 0; t < tokens; t++) {
                    double[] weights = new double[3];
                    for (int e = 0; e < 3; e++) {
                        for (int k = 0; k < c; k++) {
                            weights[e] += input[t * c + k] * router[e * c + k];
                        }
                    }
                    weights = hostWeights(weights, topK == null ? 3 : topK);
                    int nonZero = 0;
                    for (double weight : weights) {
                        nonZero += weight > 0 ? 1 : 0;
                    }
                    assertThat(nonZero).isEqualTo(topK == null ? 3 : topK);
                    for (int k = 0; k < c; k++) {
                        double expected = 0;
                        for (int e = 0; e < 3; e++) {
                            expected += weights[e] * outputs[e][t * c + k];
                        }
                        assertThat((double) actual[t * c + k]).isCloseTo(expected, within(1e-5));
                        if (topK != null && topK == 1) {
                            // Exactly the chosen expert's output: its weight is p / p = 1, the others 0.
                            int chosen = weights[0] > 0 ? 0 : weights[1] > 0 ? 1 : 2;
                            assertThat(actual[t * c + k]).isEqualTo(outputs[chosen][t * c + k]);
                            chosenByAll |= 1 << chosen;
                        }
                    }
                }
                if (topK != null && topK == 1) {
                    assertThat(Integer.bitCount(chosenByAll)).as("tokens choose different experts").isGreaterThan(1);
                }
            }
        }
    }

    /** Softmax of the logits, then the k largest kept and renormalised. */
    private static double[] hostWeights(double[] logits, int k) {
        double max = Math.max(logits[0], Math.max(logits[1], logits[2]));
        double[] p = new double[3];
        double sum = 0;
        for (int e = 0; e < 3; e++) {
            p[e] = Math.exp(logits[e] - max);
            sum += p[e];
        }
        double[] sorted = p.clone();
        Arrays.sort(sorted);
        double threshold = sorted[3 - k];
        double kept = 0;
        for (int e = 0; e < 3; e++) {
            p[e] = p[e] >= threshold ? p[e] / sum : 0;
            kept += p[e];
        }
        for (int e = 0; e < 3; e++) {
            p[e] /= kept;
        }
        return p;
    }

    @Test
    void multiLayerWindowsStartAtTheLayerAndSlideDownNearTheTop() {
        // n_layer 12, span 3: layer i mixes layers i, i+1, i+2 while they exist; the last layers keep 9, 10, 11.
        assertThat(LayerRouting.windowStart(0, 3, 12)).isZero();
        assertThat(LayerRouting.windowStart(9, 3, 12)).isEqualTo(9);
        assertThat(LayerRouting.windowStart(10, 3, 12)).isEqualTo(9);
        assertThat(LayerRouting.windowStart(11, 3, 12)).isEqualTo(9);
        assertThat(LayerRouting.windowStart(11, 1, 12)).isEqualTo(11);
        assertThat(LayerRouting.windowStart(5, 12, 12)).isZero();
        assertThatThrownBy(() -> LayerRouting.windowStart(0, 13, 12)).isInstanceOf(IllegalArgumentException.class);

        RoutingSpec spec = RoutingSpec.multiLayerRouting(RouterKind.LINEAR, 2).withIncludeBase(true);
        try (RoutedModel routed = RoutedModel.create(spec, base, List.of(expertA, expertB))) {
            assertThat(routed.members()).containsExactly(expertA, expertB, base);
            // 3 layers, span 2: layer 0 → 0, 1; layer 1 → 1, 2; layer 2 → 1, 2 (slid down). Layer-major order.
            assertThat(routed.expertsAt(0)).extracting(ExpertMlp::layer, ExpertMlp::member).containsExactly(
                    tuple(0, 0), tuple(0, 1), tuple(0, 2), tuple(1, 0), tuple(1, 1), tuple(1, 2));
            assertThat(routed.expertsAt(1)).extracting(ExpertMlp::layer).containsExactly(1, 1, 1, 2, 2, 2);
            assertThat(routed.expertsAt(2)).extracting(ExpertMlp::layer).containsExactly(1, 1, 1, 2, 2, 2);
            assertThat(routed.expertsAt(2).get(2).model()).isSameAs(base);
            assertThat(routed.routers()).hasSize(3).allSatisfy(router -> assertThat(router.outputs()).isEqualTo(6));
        }
        assertThatThrownBy(() -> RoutedModel.create(RoutingSpec.multiLayerRouting(RouterKind.LINEAR, 4), base,
                List.of(expertA))).hasMessageContaining("span 4 exceeds n_layer 3");
    }

    /** Router statistics: each layer's mean weight per expert; a fixed interpolation's are its own α. */
    @Test
    void routingWeightsAreEachLayersMeanWeightPerExpert() {
        TokenSequence tokens = TokenSequence.of(new java.util.SplittableRandom(3).ints(16 * 4 + 1, 0, 64).toArray());
        try (RoutedModel interpolation = RoutedModel.create(RoutingSpec.activationInterpolation(0.3), base,
                List.of(expertA, expertB));
             RoutedModel routed = RoutedModel.create(RoutingSpec.multiLayerRouting(RouterKind.LINEAR, 2)
                     .withIncludeBase(true).withTopK(1).withSeed(9), base, List.of(expertA, expertB))) {
            for (double[] layer : interpolation.routingWeights(tokens, 16, 4, 2)) {
                assertThat(layer[0]).isCloseTo(0.3, within(1e-6));
                assertThat(layer[1]).isCloseTo(0.7, within(1e-6));
            }
            double[][] weights = routed.routingWeights(tokens, 16, 4, 2);
            assertThat(weights).hasNumberOfRows(3);
            for (double[] layer : weights) {
                // Span 2 over three models: six experts per router, each token sent to one of them.
                assertThat(layer).hasSize(6);
                assertThat(java.util.Arrays.stream(layer).sum()).isCloseTo(1, within(1e-5));
                for (double weight : layer) {
                    assertThat(weight).isBetween(0.0, 1.0);
                    // With top_k 1 every weight is a share of the 64 tokens.
                    assertThat(weight * 64).isCloseTo(Math.rint(weight * 64), within(1e-3));
                }
            }
        }
    }

    @Test
    void routerParametersAreNamedAndShapedAsDocumented() {
        try (RoutedModel linear = RoutedModel.create(RoutingSpec.layerRouting(RouterKind.LINEAR), null,
                List.of(expertA, expertB));
                RoutedModel mlp = RoutedModel.create(RoutingSpec.singleRouter(RouterKind.MLP).withIncludeBase(true),
                        base, List.of(expertA, expertB))) {
            assertThat(linear.routerParameters()).containsOnlyKeys("router.layer.0.linear.weight",
                    "router.layer.1.linear.weight", "router.layer.2.linear.weight");
            assertThat(linear.routerParameters().get("router.layer.2.linear.weight").getShape())
                    .isEqualTo(new Shape(2, 16));
            Map<String, NDArray> single = mlp.routerParameters();
            // The paper's MLP router has no biases (architecture/router.py: nn.Linear(..., bias=False)).
            assertThat(single.keySet()).containsExactly("router.single.mlp.fc.weight", "router.single.mlp.proj.weight");
            assertThat(single.get("router.single.mlp.fc.weight").getShape()).isEqualTo(new Shape(16, 16));
            assertThat(single.get("router.single.mlp.proj.weight").getShape()).isEqualTo(new Shape(3, 16));
            // kaiming_uniform_ with a = 0, as the paper's code: U(±√(6/fan_in)) = U(±0.612) for width 16, wider
            // than nn.Linear's default U(±1/√fan_in) = U(±0.25).
            float largest = 0;
            for (float value : linear.routerParameters().get("router.layer.0.linear.weight").toFloatArray()) {
                assertThat(Math.abs(value)).isLessThanOrEqualTo((float) Math.sqrt(6.0 / 16));
                largest = Math.max(largest, Math.abs(value));
            }
            assertThat(largest).isGreaterThan(0.25f);
        }
    }

    @Test
    void saveThenLoadGivesTheSameLoss() throws Exception {
        List<RoutingSpec> specs = List.of(
                RoutingSpec.layerRouting(RouterKind.MLP).withIncludeBase(true).withTopK(2).withSeed(3),
                RoutingSpec.multiLayerRouting(RouterKind.LINEAR, 2).withSeed(4),
                RoutingSpec.singleRouter(RouterKind.LINEAR).withSeed(5),
                RoutingSpec.activationInterpolation(0.3));
        int i = 0;
        for (RoutingSpec spec : specs) {
            Path saved = dir.resolve("routed-" + i++);
            double expected;
            try (RoutedModel routed = RoutedModel.create(spec, base, List.of(expertA, expertB))) {
                expected = loss(routed);
                routed.save(saved, "base-id", List.of("a-id", "b-id"));
            }
            RoutedModelDescription description =
                    RoutedModelDescription.read(saved.resolve(RoutedModel.DESCRIPTION_FILE));
            assertThat(description.spec()).isEqualTo(spec);
            assertThat(description.baseId()).isEqualTo("base-id");
            assertThat(description.expertIds()).containsExactly("a-id", "b-id");
            assertThat(description.nLayer()).isEqualTo(3);
            assertThat(description.nEmbd()).isEqualTo(16);
            assertThat(Files.exists(saved.resolve(RoutedModel.ROUTER_FILE))).isEqualTo(spec.router() != null);
            // A different seed would give different routers: everything must come from the file.
            try (RoutedModel loaded = RoutedModel.load(saved, base, List.of(expertA, expertB))) {
                assertThat(loaded.spec()).isEqualTo(spec);
                assertThat(loss(loaded)).as(spec.toString()).isEqualTo(expected);
            }
        }
        String json = Files.readString(dir.resolve("routed-0").resolve(RoutedModel.DESCRIPTION_FILE));
        assertThat(json).contains("\"method\" : \"layer_routing\"", "\"router\" : \"mlp\"", "\"include_base\" : true",
                "\"top_k\" : 2", "\"shared\" : \"base\"");
    }

    @Test
    void loadingRefusesWhatDoesNotMatch() throws Exception {
        Path saved = dir.resolve("routed");
        try (RoutedModel routed = RoutedModel.create(RoutingSpec.layerRouting(RouterKind.LINEAR), null,
                List.of(expertA, expertB))) {
            routed.save(saved, null, List.of("a", "b"));
            assertThatThrownBy(() -> routed.save(saved, "base", List.of("a", "b")))
                    .isInstanceOf(IllegalArgumentException.class);
        }
        assertThatThrownBy(() -> RoutedModel.load(saved, null, List.of(expertA)))
                .hasMessageContaining("has 2 experts, 1 were given");
        assertThatThrownBy(() -> RoutedModel.load(saved, base, List.of(expertA, expertB)))
                .hasMessageContaining("no base");
        // The routers of another method do not fit.
        RoutedModelDescription single = new RoutedModelDescription(RoutingSpec.singleRouter(RouterKind.LINEAR), null,
                List.of("a", "b"), 3, 16);
        assertThatThrownBy(() -> RoutedModel.load(single, saved.resolve(RoutedModel.ROUTER_FILE), null,
                List.of(expertA, expertB))).hasMessageContaining("router.single.linear.weight");
        assertThatThrownBy(() -> RoutedModelDescription.parse("{\"format\": \"x\"}".getBytes(StandardCharsets.UTF_8)))
                .isInstanceOf(IllegalArgumentException.class);
        String json = Files.readString(saved.resolve(RoutedModel.DESCRIPTION_FILE));
        assertThatThrownBy(() -> RoutedModelDescription.parse(json.replace("\"span\"", "\"spam\"")
                .getBytes(StandardCharsets.UTF_8))).hasMessageContaining("spam");
    }

    @Test
    void specsOutOfRangeAreRefused() {
        assertThatThrownBy(() -> RoutingSpec.activationInterpolation(1.5)).hasMessageContaining("alpha");
        assertThatThrownBy(() -> RoutingSpec.multiLayerRouting(RouterKind.LINEAR, 5)).hasMessageContaining("span");
        assertThatThrownBy(() -> RoutingSpec.layerRouting(RouterKind.LINEAR).withTopK(0)).hasMessageContaining("top_k");
        assertThatThrownBy(() -> RoutedModel.create(RoutingSpec.layerRouting(RouterKind.LINEAR).withTopK(3), null,
                List.of(expertA, expertB))).hasMessageContaining("top_k 3 exceeds the 2 experts");
        assertThatThrownBy(() -> RoutedModel.create(RoutingSpec.layerRouting(RouterKind.LINEAR).withIncludeBase(true),
                null, List.of(expertA))).hasMessageContaining("include_base needs a base");
        assertThatThrownBy(() -> RoutedModel.create(RoutingSpec.activationInterpolation(0.5), null,
                List.of(expertA, expertB, expertC))).hasMessageContaining("exactly two experts");
        try (Gpt2Model wide = Gpt2Model.randomInit(new Gpt2Config(3, 32, 2, 64, 64, 16, 1e-5), 1, Device.cpu())) {
            assertThatThrownBy(() -> RoutedModel.create(RoutingSpec.layerRouting(RouterKind.LINEAR), base,
                    List.of(wide))).hasMessageContaining("n_embd 16");
        }
    }
}
