package dev.consort.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import dev.consort.support.ReferenceGpt2;

/**
 * Generation with a KV cache computes what a forward pass over the whole sequence computes, greedy decoding takes
 * the argmax of the logits at every step (the model's without a cache, and the float64 reference's), and a seed
 * reproduces a sampled text.
 */
class GeneratorTest {

    private static final Gpt2Config CONFIG = new Gpt2Config(2, 32, 4, 128, 50257, 48, 1e-5);
    private static Gpt2Model model;

    /**
     * A random model whose token embedding is 5 times GPT-2's initial scale, so that its logits spread wider
     * (sd about 0.5 nats, the top two about 0.1 apart) and the argmax does not hang on float rounding.
     */
    @BeforeAll
    static void model() {
        model = Gpt2Model.randomInit(CONFIG, 11, Device.cpu());
        NDArray wte = model.parameter("wte.weight");
        model.replaceParameter("wte.weight", wte.mul(5f));
    }

    @AfterAll
    static void close() {
        model.close();
    }

    private static int[] randomTokens(int length, long seed) {
        return new SplittableRandom(seed).ints(length, 0, 50257).toArray();
    }

    /** Hidden states of {@code tokens} in one forward pass without a cache, {@code [T, C]} as rows. */
    private static float[][] fullForward(int[] tokens) {
        try (NDManager scope = model.manager().newSubManager()) {
            NDArray hidden = model.forward(scope.create(tokens, new Shape(1, tokens.length)));
            float[] flat = hidden.toFloatArray();
            float[][] rows = new float[tokens.length][];
            for (int t = 0; t < tokens.length; t++) {
                rows[t] = Arrays.copyOfRange(flat, t * CONFIG.nEmbd(), (t + 1) * CONFIG.nEmbd());
            }
            return rows;
        }
    }

    private static float[] lastLogits(int[] tokens) {
        try (NDManager scope = model.manager().newSubManager()) {
            NDArray hidden = model.forward(scope.create(tokens, new Shape(1, tokens.length)));
            return model.logits(hidden.get(new NDIndex(":, -1, :"))).toFloatArray();
        }
    }

    @Test
    void aCachedForwardPassEqualsTheFullOneAtEveryPosition() {
        int[] tokens = randomTokens(20, 1);
        float[][] full = fullForward(tokens);
        List<float[]> cached = new ArrayList<>();
        try (KvCache cache = new KvCache(model); NDManager scope = model.manager().newSubManager()) {
            // The prompt's 7 positions in one pass, then 3, then one at a time.
            int[][] pieces = {Arrays.copyOfRange(tokens, 0, 7), Arrays.copyOfRange(tokens, 7, 10)};
            for (int[] piece : pieces) {
                addRows(cached, model.forwardCached(scope.create(piece, new Shape(1, piece.length)), null, cache));
            }
            for (int t = 10; t < tokens.length; t++) {
                addRows(cached, model.forwardCached(scope.create(new int[] {tokens[t]}, new Shape(1, 1)), null, cache));
            }
            assertThat(cache.length()).isEqualTo(20);
        }
        assertThat(cached).hasSize(20);
        for (int t = 0; t < 20; t++) {
            for (int c = 0; c < CONFIG.nEmbd(); c++) {
                assertThat(cached.get(t)[c]).as("position %d, channel %d", t, c).isCloseTo(full[t][c], within(1e-4f));
            }
        }
    }

    private static void addRows(List<float[]> rows, NDArray hidden) {
        float[] flat = hidden.toFloatArray();
        for (int start = 0; start < flat.length; start += CONFIG.nEmbd()) {
            rows.add(Arrays.copyOfRange(flat, start, start + CONFIG.nEmbd()));
        }
    }

    @Test
    void greedyDecodingTakesTheArgmaxOfTheLogitsAtEveryStep() {
        int[] prompt = randomTokens(5, 2);
        Generator.Generated greedy = Generator.generate(model, null, prompt, 12, new TokenSampler(0, 0, 1, 0), 50257, -1,
                token -> true);

        assertThat(greedy.tokens()).hasSize(12);
        assertThat(greedy.finish()).isEqualTo(Generator.Finish.LENGTH);
        ReferenceGpt2 reference = reference();
        int[] sequence = prompt;
        for (int token : greedy.tokens()) {
            float[] logits = lastLogits(sequence);
            assertThat(token).isEqualTo(TokenSampler.argmax(logits));
            double[][] referenceLogits = reference.logits(sequence);
            assertThat(token).as("the float64 reference's argmax").isEqualTo(argmax(referenceLogits[sequence.length - 1]));
            sequence = append(sequence, token);
        }
    }

    /** The same weights in the independent float64 GPT-2. */
    private static ReferenceGpt2 reference() {
        Map<String, float[]> floats = new HashMap<>();
        model.parameters().forEach((name, array) -> floats.put(name, array.toFloatArray()));
        return new ReferenceGpt2(CONFIG.nLayer(), CONFIG.nEmbd(), CONFIG.nHead(), CONFIG.nInner(), CONFIG.vocabSize(),
                CONFIG.layerNormEpsilon(), floats);
    }

    private static int argmax(double[] values) {
        int best = 0;
        for (int i = 1; i < values.length; i++) {
            if (values[i] > values[best]) {
                best = i;
            }
        }
        return best;
    }

    @Test
    void theSameSeedGivesTheSameTextAndAnotherSeedAnother() {
        int[] prompt = randomTokens(4, 3);
        int[] first = sample(prompt, 42);
        assertThat(sample(prompt, 42)).isEqualTo(first);
        assertThat(sample(prompt, 43)).isNotEqualTo(first);
    }

    private static int[] sample(int[] prompt, long seed) {
        return Generator.generate(model, null, prompt, 10, new TokenSampler(1.0, 0, 1, seed), 50257, -1, token -> true)
                .tokens();
    }

    @Test
    void generationEndsAtTheEndOfTextTokenOrWhenTheSinkStops() {
        int[] prompt = randomTokens(5, 2);
        int[] sampled = Generator.generate(model, null, prompt, 12, new TokenSampler(1.0, 0, 1, 9), 50257, -1,
                token -> true).tokens();
        // The first token that did not occur before it plays the end-of-text token.
        int first = 1;
        while (first < sampled.length && contains(Arrays.copyOf(sampled, first), sampled[first])) {
            first++;
        }
        assertThat(first).as("a new token in %s", Arrays.toString(sampled)).isLessThan(sampled.length);

        Generator.Generated eos = Generator.generate(model, null, prompt, 12, new TokenSampler(1.0, 0, 1, 9), 50257,
                sampled[first], token -> true);
        assertThat(eos.finish()).isEqualTo(Generator.Finish.EOS);
        assertThat(eos.tokens()).isEqualTo(Arrays.copyOf(sampled, first));

        int[] seen = new int[1];
        Generator.Generated stopped = Generator.generate(model, null, prompt, 12, new TokenSampler(1.0, 0, 1, 9), 50257,
                -1, token -> ++seen[0] < 2);
        assertThat(stopped.finish()).isEqualTo(Generator.Finish.STOP);
        assertThat(stopped.tokens()).isEqualTo(Arrays.copyOf(sampled, 2));
    }

    private static boolean contains(int[] tokens, int token) {
        return Arrays.stream(tokens).anyMatch(t -> t == token);
    }

    @Test
    void aPromptThatDoesNotFitWithItsNewTokensIsRefused() {
        int[] prompt = randomTokens(40, 4);
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> Generator.generate(model, null, prompt, 9,
                new TokenSampler(0, 0, 1, 0), 50257, -1, token -> true))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("n_positions 48");
    }

    @Test
    void theSamplerDrawsInProportionToTheSoftmaxAndItsFiltersNarrowIt() {
        float[] logits = {0f, (float) Math.log(3), -50f};
        TokenSampler plain = new TokenSampler(1.0, 0, 1, 7);
        int ones = 0;
        for (int i = 0; i < 10_000; i++) {
            ones += plain.next(logits) == 1 ? 1 : 0;
        }
        // p = 3/4; sd over 10,000 draws 0.0043, so 5 sd is 0.022.
        assertThat(ones / 10_000.0).isCloseTo(0.75, within(0.022));
        // Top-k 1 and a nucleus smaller than the top token's 3/4 both leave only the argmax, at any temperature.
        TokenSampler topK = new TokenSampler(5.0, 1, 1, 7);
        TokenSampler topP = new TokenSampler(5.0, 0, 0.5, 7);
        for (int i = 0; i < 100; i++) {
            assertThat(topK.next(logits)).isEqualTo(1);
            assertThat(topP.next(new float[] {0f, (float) Math.log(3)})).isEqualTo(1);
        }
    }

    private static int[] append(int[] tokens, int token) {
        int[] longer = Arrays.copyOf(tokens, tokens.length + 1);
        longer[tokens.length] = token;
        return longer;
    }
}
