package dev.consort.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;

import dev.consort.safetensors.DType;
import dev.consort.safetensors.SafetensorsHeader;
import dev.consort.safetensors.SafetensorsReader;
import dev.consort.safetensors.SafetensorsWriter;
import dev.consort.safetensors.TensorInfo;
import dev.consort.support.ReferenceGpt2;
import dev.consort.support.TinyGpt2;

class Gpt2ModelTest {

    @TempDir
    Path dir;

    /** Two sequences of 12 tokens (n_positions is 16) and their next tokens, vocab 64. */
    private static final int[][] INPUTS = new int[2][12];
    private static final int[][] TARGETS = new int[2][12];

    static {
        SplittableRandom random = new SplittableRandom(42);
        for (int b = 0; b < 2; b++) {
            int[] sequence = random.ints(13, 0, 64).toArray();
            System.arraycopy(sequence, 0, INPUTS[b], 0, 12);
            System.arraycopy(sequence, 1, TARGETS[b], 0, 12);
        }
    }

    private Path writeTiny(TinyGpt2 tiny) throws IOException {
        Path file = dir.resolve("tiny-" + tiny.seed + "-" + tiny.dtype + ".safetensors");
        Files.write(file, tiny.weights());
        return file;
    }

    private static Gpt2Config config(TinyGpt2 tiny) throws Gpt2FormatException {
        return Gpt2Config.parse(tiny.config());
    }

    private static NDArray batch(NDManager manager, int[][] rows) {
        int[] flat = new int[rows.length * rows[0].length];
        for (int b = 0; b < rows.length; b++) {
            System.arraycopy(rows[b], 0, flat, b * rows[0].length, rows[0].length);
        }
        return manager.create(flat, new Shape(rows.length, rows[0].length));
    }

    private static double loss(Gpt2Model model, int[][] inputs, int[][] targets) {
        try (NDManager scope = model.manager().newSubManager()) {
            return model.loss(model.forward(batch(scope, inputs)), batch(scope, targets)).getFloat();
        }
    }

    private static ReferenceGpt2 reference(Path file, Gpt2Config config) throws IOException {
        Map<String, float[]> floats = new HashMap<>();
        try (SafetensorsReader reader = SafetensorsReader.open(file)) {
            for (String stored : reader.tensors().keySet()) {
                String bare = Gpt2TensorLayout.bareName(stored);
                if (!Gpt2TensorLayout.isIgnoredBuffer(bare, config)) {
                    floats.put(bare, reader.floats(stored));
                }
            }
        }
        return new ReferenceGpt2(config.nLayer(), config.nEmbd(), config.nHead(), config.nInner(), config.vocabSize(),
                config.layerNormEpsilon(), floats);
    }

    @Test
    void randomInitialisationPredictsUniformlyOverTheRealVocabulary() {
        Gpt2Config config = new Gpt2Config(2, 32, 2, 128, 50257, 64, 1e-5);
        try (Gpt2Model model = Gpt2Model.randomInit(config, 7, Device.cpu())) {
            SplittableRandom random = new SplittableRandom(1);
            int[][] inputs = new int[4][64];
            int[][] targets = new int[4][64];
            for (int b = 0; b < 4; b++) {
                inputs[b] = random.ints(64, 0, 50257).toArray();
                targets[b] = random.ints(64, 0, 50257).toArray();
            }
            assertThat(loss(model, inputs, targets)).isCloseTo(Math.log(50257), within(0.1));
            assertThat(model.parameterCount()).isEqualTo(50257L * 32 + 64 * 32 + 2 * (12L * 32 * 32 + 13 * 32) + 2 * 32);
            // GPT-2's initialisation: N(0, 0.02), residual projections scaled by 1/sqrt(2·n_layer).
            assertThat(std(model.parameter("wte.weight").toFloatArray())).isCloseTo(0.02, within(0.0005));
            assertThat(std(model.parameter("h.1.mlp.c_proj.weight").toFloatArray())).isCloseTo(0.01, within(0.0005));
            assertThat(model.parameter("h.0.ln_1.weight").toFloatArray()).containsOnly(1f);
            assertThat(model.parameter("h.0.attn.c_attn.bias").toFloatArray()).containsOnly(0f);
        }
    }

    private static double std(float[] values) {
        double sum = 0;
        for (float v : values) {
            sum += (double) v * v;
        }
        return Math.sqrt(sum / values.length);
    }

    @Test
    void lossMatchesAnIndependentFloat64Reference() throws Exception {
        TinyGpt2 tiny = new TinyGpt2().withAttentionBuffers();
        Path file = writeTiny(tiny);
        Gpt2Config config = config(tiny);
        try (Gpt2Model model = Gpt2Model.load(file, config, Device.cpu())) {
            double expected = reference(file, config).loss(INPUTS, TARGETS);
            assertThat(loss(model, INPUTS, TARGETS)).isCloseTo(expected, within(1e-4));
        }
    }

    @Test
    void gradientsOfMlpParametersMatchCentralDifferencesOfTheReference() throws Exception {
        TinyGpt2 tiny = new TinyGpt2().bare().seed(3);
        Path file = writeTiny(tiny);
        Gpt2Config config = config(tiny);
        ReferenceGpt2 reference = reference(file, config);
        List<String> names = List.of("h.0.mlp.c_fc.weight", "h.0.mlp.c_fc.bias", "h.1.mlp.c_proj.weight");
        Map<String, float[]> gradients = new HashMap<>();
        try (Gpt2Model model = Gpt2Model.load(file, config, Device.cpu())) {
            StepLoop.GRADIENT_LOCK.lock();
            try (NDManager scope = model.manager().newSubManager()) {
                names.forEach(name -> model.parameter(name).setRequiresGradient(true));
                try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
                    NDArray loss = model.loss(model.forward(batch(scope, INPUTS)), batch(scope, TARGETS));
                    collector.backward(loss);
                }
                for (String name : names) {
                    NDArray gradient = model.parameter(name).getGradient();
                    gradient.attach(scope);
                    gradients.put(name, gradient.toFloatArray());
                }
            } finally {
                StepLoop.GRADIENT_LOCK.unlock();
            }
        }
        int checked = 0;
        for (String name : names) {
            float[] gradient = gradients.get(name);
            // The five largest components of each tensor, where float32 rounding is relatively smallest.
            List<Integer> largest = new ArrayList<>();
            for (int i = 0; i < gradient.length; i++) {
                largest.add(i);
            }
            largest.sort((a, b) -> Float.compare(Math.abs(gradient[b]), Math.abs(gradient[a])));
            for (int index : largest.subList(0, 5)) {
                double[] weights = reference.weights.get(name);
                double original = weights[index];
                double step = 1e-5;
                weights[index] = original + step;
                double plus = reference.loss(INPUTS, TARGETS);
                weights[index] = original - step;
                double minus = reference.loss(INPUTS, TARGETS);
                weights[index] = original;
                double numeric = (plus - minus) / (2 * step);
                assertThat(Math.abs(gradient[index] - numeric) / Math.abs(numeric))
                        .as("%s[%d]: DJL %s, finite difference %s", name, index, gradient[index], numeric)
                        .isLessThan(1e-2);
                checked++;
            }
        }
        assertThat(checked).isEqualTo(15);
    }

    /**
     * Regression: DJL's {@code op(Number)} overloads wrap the number in a Java buffer freed right after
     * the op, but autograd keeps such operands for the backward pass; after a garbage collection the
     * gradients were garbage. The model must hold no Java-owned memory in its graph.
     */
    @Test
    void gradientsSurviveAGarbageCollectionBetweenForwardAndBackward() throws Exception {
        TinyGpt2 tiny = new TinyGpt2();
        try (Gpt2Model model = Gpt2Model.load(writeTiny(tiny), config(tiny), Device.cpu())) {
            float[] quiet = gradientOfWte(model, false);
            float[] collected = gradientOfWte(model, true);
            assertThat(collected).containsExactly(quiet);
        }
    }

    private static float[] gradientOfWte(Gpt2Model model, boolean collectGarbage) throws InterruptedException {
        NDArray wte = model.parameter("wte.weight");
        StepLoop.GRADIENT_LOCK.lock();
        try (NDManager scope = model.manager().newSubManager()) {
            wte.setRequiresGradient(true);
            try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
                NDArray loss = model.loss(model.forward(batch(scope, INPUTS)), batch(scope, TARGETS));
                if (collectGarbage) {
                    System.gc();
                    Thread.sleep(50);
                    // Reuse whatever native memory the collection freed, with NaNs.
                    List<java.nio.ByteBuffer> junk = new ArrayList<>();
                    for (int i = 0; i < 20_000; i++) {
                        junk.add(java.nio.ByteBuffer.allocateDirect(8).putFloat(0, Float.NaN).putFloat(4, Float.NaN));
                    }
                }
                collector.backward(loss);
            }
            NDArray gradient = wte.getGradient();
            gradient.attach(scope);
            float[] values = gradient.toFloatArray();
            gradient.subi(gradient);
            return values;
        } finally {
            wte.setRequiresGradient(false);
            StepLoop.GRADIENT_LOCK.unlock();
        }
    }

    @Test
    void chunkedLossEqualsTheUnchunkedOne() throws Exception {
        TinyGpt2 tiny = new TinyGpt2();
        try (Gpt2Model model = Gpt2Model.load(writeTiny(tiny), config(tiny), Device.cpu());
                NDManager scope = model.manager().newSubManager()) {
            NDArray hidden = model.forward(batch(scope, INPUTS));
            NDArray targets = batch(scope, TARGETS);
            float whole = model.crossEntropySum(hidden, targets, 24).getFloat();
            for (int chunkRows : new int[] {1, 5, 7, 23}) {
                assertThat(model.crossEntropySum(hidden, targets, chunkRows).getFloat())
                        .isCloseTo(whole, within(Math.abs(whole) * 1e-6f));
            }
            assertThat(model.loss(hidden, targets).getFloat()).isCloseTo(whole / 24, within(1e-6f));
        }
    }

    @Test
    void saveThenLoadGivesTheSameLossExactlyInF32AndCloselyInF16() throws Exception {
        TinyGpt2 tiny = new TinyGpt2().dtype("BF16");
        Gpt2Config config = config(tiny);
        try (Gpt2Model model = Gpt2Model.load(writeTiny(tiny), config, Device.cpu())) {
            double original = loss(model, INPUTS, TARGETS);
            Path f32 = dir.resolve("saved-f32.safetensors");
            Path f16 = dir.resolve("saved-f16.safetensors");
            model.save(f32, DType.F32);
            model.save(f16, DType.F16);
            SafetensorsHeader header = SafetensorsHeader.read(f32);
            assertThat(header.metadata()).containsEntry("format", "pt");
            assertThat(header.tensors()).extracting(TensorInfo::name)
                    .containsExactlyElementsOf(Gpt2TensorLayout.expected(config).keySet());
            try (Gpt2Model reloaded = Gpt2Model.load(f32, config, Device.cpu())) {
                assertThat(loss(reloaded, INPUTS, TARGETS)).isEqualTo(original);
                for (String name : Gpt2TensorLayout.expected(config).keySet()) {
                    assertThat(reloaded.parameter(name).toFloatArray()).containsExactly(model.parameter(name).toFloatArray());
                }
            }
            try (Gpt2Model half = Gpt2Model.load(f16, config, Device.cpu())) {
                assertThat(SafetensorsHeader.read(f16).tensors()).allSatisfy(t -> assertThat(t.dtype()).isEqualTo(DType.F16));
                assertThat(loss(half, INPUTS, TARGETS)).isCloseTo(original, within(1e-3));
            }
        }
    }

    @Test
    void aStoredLmHeadEqualToWteIsAcceptedAndIgnored() throws Exception {
        TinyGpt2 tiny = new TinyGpt2();
        Gpt2Config config = config(tiny);
        Path withHead = dir.resolve("with-head.safetensors");
        List<SafetensorsWriter.Tensor> tensors = new ArrayList<>();
        try (SafetensorsReader reader = SafetensorsReader.open(writeTiny(tiny))) {
            for (TensorInfo tensor : reader.header().tensors()) {
                float[] values = reader.floats(tensor.name());
                tensors.add(new SafetensorsWriter.Tensor(tensor.name(), tensor.shape(), () -> values));
            }
            float[] wte = reader.floats("transformer.wte.weight");
            tensors.add(new SafetensorsWriter.Tensor("lm_head.weight", new long[] {64, 8}, () -> wte));
        }
        SafetensorsWriter.write(withHead, tensors, DType.F32);
        try (Gpt2Model model = Gpt2Model.load(withHead, config, Device.cpu());
                Gpt2Model plain = Gpt2Model.load(writeTiny(tiny), config, Device.cpu())) {
            assertThat(model.parameters()).doesNotContainKey("lm_head.weight");
            assertThat(loss(model, INPUTS, TARGETS)).isEqualTo(loss(plain, INPUTS, TARGETS));
        }
    }

    @Test
    void anUntiedLmHeadIsRejected() throws Exception {
        TinyGpt2 tiny = new TinyGpt2().withLmHead();
        assertThatThrownBy(() -> Gpt2Model.load(writeTiny(tiny), config(tiny), Device.cpu()))
                .isInstanceOfSatisfying(Gpt2FormatException.class, e ->
                        assertThat(e.violations()).singleElement().satisfies(v -> {
                            assertThat(v.subject()).isEqualTo("lm_head.weight");
                            assertThat(v.message()).contains("differs from wte.weight");
                        }));
    }

    @Test
    void weightsThatDoNotFitTheConfigAreRejectedNamingTheTensor() throws Exception {
        TinyGpt2 tiny = new TinyGpt2().shape("h.1.mlp.c_fc.weight", 8, 16);
        assertThatThrownBy(() -> Gpt2Model.load(writeTiny(tiny), config(tiny), Device.cpu()))
                .isInstanceOfSatisfying(Gpt2FormatException.class, e ->
                        assertThat(e.violations()).anySatisfy(v -> assertThat(v.subject())
                                .isEqualTo("transformer.h.1.mlp.c_fc.weight")));
    }

    @Test
    void captureSeesEveryLayerAndAnOverrideReplacesTheMlp() throws Exception {
        TinyGpt2 tiny = new TinyGpt2();
        try (Gpt2Model model = Gpt2Model.load(writeTiny(tiny), config(tiny), Device.cpu());
                NDManager scope = model.manager().newSubManager()) {
            NDArray tokens = batch(scope, INPUTS);
            float[] plain = model.forward(tokens).toFloatArray();
            List<Integer> layers = new ArrayList<>();
            List<float[]> residuals = new ArrayList<>();
            Gpt2Model.LayerCapture capture = (layer, mlpOutput, residual) -> {
                layers.add(layer);
                assertThat(mlpOutput.getShape()).isEqualTo(new Shape(2, 12, 8));
                assertThat(residual.getShape()).isEqualTo(new Shape(2, 12, 8));
                residuals.add(residual.toFloatArray());
            };
            // An override calling the model's own MLP changes nothing.
            float[] same = model.forward(tokens, capture, (layer, residual, normed) -> model.mlp(layer, normed))
                    .toFloatArray();
            assertThat(same).containsExactly(plain);
            assertThat(layers).containsExactly(0, 1);
            // An override may keep arrays from one layer to the next (a single router's weights).
            NDArray[] kept = new NDArray[1];
            float[] stateful = model.forward(tokens, null, (layer, residual, normed) -> {
                if (layer == 0) {
                    kept[0] = normed.zerosLike();
                }
                return model.mlp(layer, normed).add(kept[0]);
            }).toFloatArray();
            assertThat(stateful).containsExactly(plain);
            // Dropping the MLPs changes the output.
            float[] withoutMlp = model.forward(tokens, null, (layer, residual, normed) -> normed.zerosLike())
                    .toFloatArray();
            assertThat(withoutMlp).isNotEqualTo(plain);
        }
    }

    @Test
    void forwardRejectsSequencesLongerThanThePositions() throws Exception {
        TinyGpt2 tiny = new TinyGpt2();
        try (Gpt2Model model = Gpt2Model.load(writeTiny(tiny), config(tiny), Device.cpu());
                NDManager scope = model.manager().newSubManager()) {
            assertThatThrownBy(() -> model.forward(scope.zeros(new Shape(1, 17), ai.djl.ndarray.types.DataType.INT32)))
                    .hasMessageContaining("n_positions (16)");
        }
    }
}
