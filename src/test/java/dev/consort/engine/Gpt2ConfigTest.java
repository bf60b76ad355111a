package dev.consort.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;

import org.junit.jupiter.api.Test;

import dev.consort.support.TinyGpt2;

class Gpt2ConfigTest {

    private static Gpt2Config parse(String json) throws Gpt2FormatException {
        return Gpt2Config.parse(json.getBytes(StandardCharsets.UTF_8));
    }

    private static void assertRejected(String json, String... subjectAndMessage) {
        assertThatThrownBy(() -> parse(json)).isInstanceOfSatisfying(Gpt2FormatException.class, e ->
                assertThat(e.violations()).anySatisfy(v -> {
                    assertThat(v.subject()).isEqualTo(subjectAndMessage[0]);
                    assertThat(v.message()).contains(subjectAndMessage[1]);
                }));
    }

    @Test
    void readsAHuggingFaceConfig() throws Gpt2FormatException {
        Gpt2Config config = Gpt2Config.parse(new TinyGpt2().config());
        assertThat(config).isEqualTo(new Gpt2Config(2, 8, 2, 32, 64, 16, 1e-5));
        assertThat(config.headSize()).isEqualTo(4);
    }

    @Test
    void readsTheOriginalGpt2Config() throws Gpt2FormatException {
        Gpt2Config config = parse("""
                {"activation_function": "gelu_new", "architectures": ["GPT2LMHeadModel"], "attn_pdrop": 0.1,
                 "bos_token_id": 50256, "embd_pdrop": 0.1, "eos_token_id": 50256, "initializer_range": 0.02,
                 "layer_norm_epsilon": 1e-05, "model_type": "gpt2", "n_ctx": 1024, "n_embd": 768, "n_head": 12,
                 "n_layer": 12, "n_positions": 1024, "resid_pdrop": 0.1, "summary_activation": null,
                 "summary_first_dropout": 0.1, "summary_proj_to_labels": true, "summary_type": "cls_index",
                 "summary_use_proj": true, "task_specific_params": {"text-generation": {"do_sample": true,
                 "max_length": 50}}, "vocab_size": 50257}""");
        assertThat(config).isEqualTo(new Gpt2Config(12, 768, 12, 3072, 50257, 1024, 1e-5));
    }

    @Test
    void acceptsNCtxWhenNPositionsIsAbsentAndAnExplicitNInner() throws Gpt2FormatException {
        Gpt2Config config = parse("""
                {"n_layer": 1, "n_embd": 4, "n_head": 1, "n_inner": 6, "vocab_size": 10, "n_ctx": 8}""");
        assertThat(config.nPositions()).isEqualTo(8);
        assertThat(config.nInner()).isEqualTo(6);
    }

    @Test
    void namesEveryBadField() {
        assertThatThrownBy(() -> parse("""
                {"n_layer": 0, "n_embd": 10, "n_head": 3, "vocab_size": "many", "n_positions": 1e9}"""))
                .isInstanceOfSatisfying(Gpt2FormatException.class, e -> assertThat(e.violations())
                        .extracting(Gpt2FormatException.Violation::subject)
                        .containsExactlyInAnyOrder("n_layer", "vocab_size", "n_positions", "n_head"));
    }

    @Test
    void rejectsWhatTheEngineCannotRun() {
        assertRejected("{\"n_embd\": 8, \"n_head\": 2, \"vocab_size\": 4, \"n_positions\": 4}", "n_layer", "missing");
        assertRejected("{\"n_layer\": 1, \"n_head\": 2, \"vocab_size\": 4, \"n_positions\": 4}", "n_embd", "missing");
        assertRejected("{\"n_layer\": 1, \"n_embd\": 10, \"n_head\": 4, \"vocab_size\": 4, \"n_positions\": 4}",
                "n_head", "not divisible");
        assertRejected("{\"n_layer\": 1000, \"n_embd\": 8, \"n_head\": 2, \"vocab_size\": 4, \"n_positions\": 4}",
                "n_layer", "between 1 and 256");
        assertRejected("{\"n_layer\": 1, \"n_embd\": 8, \"n_head\": 2, \"vocab_size\": 4, \"n_positions\": 4,"
                + " \"activation_function\": \"relu\"}", "activation_function", "gelu_new");
        assertRejected("{\"n_layer\": 1.5, \"n_embd\": 8, \"n_head\": 2, \"vocab_size\": 4, \"n_positions\": 4}",
                "n_layer", "integer");
        assertRejected("{\"n_layer\": 1, \"n_embd\": 8, \"n_head\": 2, \"vocab_size\": 4, \"n_positions\": 4,"
                + " \"layer_norm_epsilon\": -1}", "layer_norm_epsilon", "between 0 and 1");
    }

    @Test
    void rejectsFilesThatAreNotJsonObjects() {
        assertRejected("{\"n_layer\": 1,", "config.json", "not valid JSON");
        assertRejected("[1]", "config.json", "JSON object");
        assertRejected("{\"n_layer\": 1, \"n_layer\": 2}", "config.json", "Duplicate");
        assertThatThrownBy(() -> Gpt2Config.parse(new byte[] {'{', (byte) 0xFF, '}'}))
                .hasMessageContaining("UTF-8");
    }
}
