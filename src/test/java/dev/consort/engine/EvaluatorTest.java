package dev.consort.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;

class EvaluatorTest {

    @TempDir
    Path dir;

    private static final Gpt2Config CONFIG = new Gpt2Config(2, 16, 2, 64, 50, 16, 1e-5);

    @Test
    void tokenFilesAreUnsignedLittleEndian16BitTokens() throws IOException {
        Path file = dir.resolve("tokens.bin");
        ByteBuffer bytes = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        bytes.putShort((short) 0).putShort((short) 50256).putShort((short) 65535).putShort((short) 258);
        Files.write(file, bytes.array());
        TokenSequence tokens = TokenSequence.open(file);
        assertThat(tokens.length()).isEqualTo(4);
        assertThat(tokens.window(0, 4)).containsExactly(0, 50256, 65535, 258);
        assertThat(tokens.window(1, 2)).containsExactly(50256, 65535);
        assertThat(tokens.maxToken()).isEqualTo(65535);
        assertThat(TokenSequence.of(3, 1, 2).window(1, 2)).containsExactly(1, 2);
        assertThatThrownBy(() -> tokens.window(3, 2)).isInstanceOf(IndexOutOfBoundsException.class);
        Files.write(file, new byte[3]);
        assertThatThrownBy(() -> TokenSequence.open(file)).hasMessageContaining("not a whole number");
        assertThatThrownBy(() -> TokenSequence.of(70000)).hasMessageContaining("not a uint16");
    }

    @Test
    void windowsAreCountedAsTheDesignDefinesThem() {
        // Window k needs (k+1)T+1 tokens.
        assertThat(Evaluator.windowCount(8, 8, 100)).isZero();
        assertThat(Evaluator.windowCount(9, 8, 100)).isEqualTo(1);
        assertThat(Evaluator.windowCount(16, 8, 100)).isEqualTo(1);
        assertThat(Evaluator.windowCount(17, 8, 100)).isEqualTo(2);
        assertThat(Evaluator.windowCount(1000, 8, 5)).isEqualTo(5);
    }

    @Test
    void lossIsTheMeanOverTheDeterministicWindowsWhateverTheBatchSize() {
        SplittableRandom random = new SplittableRandom(5);
        int[] tokens = random.ints(8 * 7 + 3, 0, 50).toArray();
        TokenSequence sequence = TokenSequence.of(tokens);
        try (Gpt2Model model = Gpt2Model.randomInit(CONFIG, 1, Device.cpu())) {
            Evaluator.Result result = Evaluator.evaluate(model, sequence, 8, 5, 2);
            assertThat(result.windows()).isEqualTo(5);
            assertThat(result.tokens()).isEqualTo(40);
            // The same windows by hand, in one batch.
            int[] inputs = new int[40];
            int[] targets = new int[40];
            for (int k = 0; k < 5; k++) {
                System.arraycopy(tokens, 8 * k, inputs, 8 * k, 8);
                System.arraycopy(tokens, 8 * k + 1, targets, 8 * k, 8);
            }
            try (NDManager scope = model.manager().newSubManager()) {
                double expected = model.loss(model.forward(scope.create(inputs, new Shape(5, 8))),
                        scope.create(targets, new Shape(5, 8))).getFloat();
                assertThat(result.loss()).isCloseTo(expected, within(1e-5));
            }
            assertThat(Evaluator.evaluate(model, sequence, 8, 5, 5).loss()).isCloseTo(result.loss(), within(1e-5));
            assertThat(Evaluator.evaluate(model, sequence, 8, 100, 3).windows()).isEqualTo(7);
        }
    }

    /** Each window's own loss is kept: the same as evaluating that window alone; the standard error is theirs. */
    @Test
    void eachWindowsLossIsKeptForIntervals() {
        int[] tokens = new SplittableRandom(8).ints(8 * 6 + 1, 0, 50).toArray();
        try (Gpt2Model model = Gpt2Model.randomInit(CONFIG, 1, Device.cpu())) {
            Evaluator.Result result = Evaluator.evaluate(model, TokenSequence.of(tokens), 8, 6, 4);
            assertThat(result.windowLosses()).hasSize(6);
            double mean = 0;
            for (int k = 0; k < 6; k++) {
                int[] alone = java.util.Arrays.copyOfRange(tokens, 8 * k, 8 * k + 9);
                double own = Evaluator.evaluate(model, TokenSequence.of(alone), 8, 1, 1).loss();
                assertThat(result.windowLosses()[k]).as("window %d", k).isCloseTo(own, within(1e-5));
                mean += own / 6;
            }
            assertThat(result.loss()).isCloseTo(mean, within(1e-5));
            double squares = 0;
            for (double loss : result.windowLosses()) {
                squares += (loss - result.loss()) * (loss - result.loss());
            }
            assertThat(result.standardError()).isCloseTo(Math.sqrt(squares / 5 / 6), within(1e-12));
            assertThat(Evaluator.evaluate(model, TokenSequence.of(tokens), 8, 1, 1).standardError()).isNaN();
        }
    }

    @Test
    void anMlpOverrideReplacesTheMlpsInEveryBatch() {
        TokenSequence sequence = TokenSequence.of(new SplittableRandom(6).ints(8 * 5 + 1, 0, 50).toArray());
        try (Gpt2Model model = Gpt2Model.randomInit(CONFIG, 1, Device.cpu());
                Gpt2Model other = Gpt2Model.randomInit(CONFIG, 2, Device.cpu())) {
            double own = Evaluator.evaluate(model, sequence, 8, 5, 2).loss();
            assertThat(Evaluator.evaluate(model, (layer, residual, normed) -> model.mlp(layer, normed), sequence, 8, 5, 2)
                    .loss()).isEqualTo(own);
            double borrowed = Evaluator.evaluate(model, (layer, residual, normed) -> other.mlp(layer, normed), sequence,
                    8, 5, 2).loss();
            assertThat(borrowed).isNotEqualTo(own);
            assertThat(Evaluator.evaluate(model, (layer, residual, normed) -> other.mlp(layer, normed), sequence, 8, 5,
                    5).loss()).isCloseTo(borrowed, within(1e-5));
        }
    }

    @Test
    void rejectsWhatCannotBeEvaluated() {
        try (Gpt2Model model = Gpt2Model.randomInit(CONFIG, 1, Device.cpu())) {
            assertThatThrownBy(() -> Evaluator.evaluate(model, TokenSequence.of(1, 2, 3), 8, 10, 1))
                    .hasMessageContaining("at least one window");
            assertThatThrownBy(() -> Evaluator.evaluate(model, TokenSequence.of(new int[40]), 17, 10, 1))
                    .hasMessageContaining("n_positions (16)");
            assertThatThrownBy(() -> Evaluator.evaluate(model, TokenSequence.of(new int[] {1, 2, 50, 3}), 2, 10, 1))
                    .hasMessageContaining("token 50 is outside the model's vocabulary (50 tokens)");
        }
    }
}
