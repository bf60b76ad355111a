package dev.consort.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.consort.safetensors.DType;
import dev.consort.safetensors.SafetensorsHeader;
import dev.consort.safetensors.TensorInfo;
import dev.consort.support.TinyGpt2;

class Gpt2TensorLayoutTest {

    @TempDir
    Path dir;

    private List<TensorInfo> tensors(TinyGpt2 model) throws IOException {
        Path file = dir.resolve("model.safetensors");
        Files.write(file, model.weights());
        return SafetensorsHeader.read(file).tensors();
    }

    private Gpt2Weights check(TinyGpt2 model) throws Exception {
        return Gpt2TensorLayout.check(Gpt2Config.parse(model.config()), tensors(model));
    }

    private void assertRejected(TinyGpt2 model, String subject, String message) {
        assertThatThrownBy(() -> check(model)).isInstanceOfSatisfying(Gpt2FormatException.class, e ->
                assertThat(e.violations()).anySatisfy(v -> {
                    assertThat(v.subject()).isEqualTo(subject);
                    assertThat(v.message()).contains(message);
                }));
    }

    @Test
    void expectsHuggingFaceNamesAndConv1dShapes() {
        Gpt2Config gpt2 = new Gpt2Config(12, 768, 12, 3072, 50257, 1024, 1e-5);
        var shapes = Gpt2TensorLayout.expected(gpt2);
        assertThat(shapes).hasSize(2 + 12 * 12 + 2);
        assertThat(shapes.get("wte.weight")).containsExactly(50257, 768);
        assertThat(shapes.get("wpe.weight")).containsExactly(1024, 768);
        assertThat(shapes.get("h.11.attn.c_attn.weight")).containsExactly(768, 2304);
        assertThat(shapes.get("h.0.mlp.c_fc.weight")).containsExactly(768, 3072);
        assertThat(shapes.get("h.0.mlp.c_proj.weight")).containsExactly(3072, 768);
        // GPT-2 small has 124,439,808 parameters with lm_head tied.
        assertThat(shapes.values().stream().mapToLong(s -> java.util.Arrays.stream(s).reduce(1, Math::multiplyExact)).sum())
                .isEqualTo(124_439_808L);
    }

    @Test
    void acceptsPrefixedAndBareNamesWithOrWithoutLmHead() throws Exception {
        Gpt2Weights prefixed = check(new TinyGpt2());
        assertThat(prefixed.tensors().get("h.1.mlp.c_fc.weight").name()).isEqualTo("transformer.h.1.mlp.c_fc.weight");
        assertThat(prefixed.hasLmHead()).isFalse();
        assertThat(prefixed.parameterCount()).isEqualTo(new TinyGpt2().parameterCount());

        TinyGpt2 bareWithHead = new TinyGpt2().bare().withLmHead();
        Gpt2Weights bare = check(bareWithHead);
        assertThat(bare.hasLmHead()).isTrue();
        assertThat(bare.parameterCount()).isEqualTo(bareWithHead.parameterCount())
                .isEqualTo(prefixed.parameterCount() + 64 * 8);
        assertThat(bare.dtypes()).containsExactly(DType.F32);
    }

    @Test
    void ignoresAttentionBuffers() throws Exception {
        Gpt2Weights weights = check(new TinyGpt2().withAttentionBuffers());
        assertThat(weights.tensors().keySet()).noneMatch(n -> n.endsWith(".attn.bias") || n.endsWith("masked_bias"));
        assertThat(weights.parameterCount()).isEqualTo(new TinyGpt2().parameterCount());
        // Only for layers the model has.
        assertRejected(new TinyGpt2().extra("h.2.attn.bias", 1), "h.2.attn.bias", "unexpected tensor");
    }

    @Test
    void namesWrongShapesMissingAndUnexpectedTensors() {
        assertRejected(new TinyGpt2().shape("h.1.mlp.c_fc.weight", 32, 8), "transformer.h.1.mlp.c_fc.weight",
                "shape [32, 8] but config.json implies [8, 32]");
        assertRejected(new TinyGpt2().omit("ln_f.bias"), "ln_f.bias", "missing (config.json implies shape [8])");
        assertRejected(new TinyGpt2().extra("../etc/passwd", 1), "../etc/passwd", "unexpected tensor");
        assertRejected(new TinyGpt2().extra("transformer.lm_head.weight", 64, 8), "transformer.lm_head.weight",
                "without the transformer. prefix");
        assertRejected(new TinyGpt2().extra("wte.weight", 64, 8), "wte.weight",
                "names the same tensor as transformer.wte.weight");
        assertRejected(new TinyGpt2().withLmHead().shape("lm_head.weight", 8, 64), "lm_head.weight",
                "config.json implies [64, 8]");
        assertRejected(new TinyGpt2().tensorDtype("wpe.weight", "I32"), "transformer.wpe.weight",
                "dtype I32 is not accepted; weights must be F32, F16, BF16 or F64");
    }

    @Test
    void reportsEveryProblemAtOnce() {
        TinyGpt2 model = new TinyGpt2().omit("wte.weight").omit("wpe.weight").extra("junk", 1);
        assertThatThrownBy(() -> check(model)).isInstanceOfSatisfying(Gpt2FormatException.class, e ->
                assertThat(e.violations()).extracting(Gpt2FormatException.Violation::subject)
                        .containsExactly("junk", "wte.weight", "wpe.weight"));
    }
}
