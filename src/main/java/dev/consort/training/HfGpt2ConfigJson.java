package dev.consort.training;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import tools.jackson.databind.json.JsonMapper;

/**
 * The {@code config.json} of a model pretrained here, in the form Hugging Face {@code transformers}
 * loads as {@code GPT2LMHeadModel} (tied embeddings, {@code gelu_new}).
 */
final class HfGpt2ConfigJson {

    static final int END_OF_TEXT = 50256;

    private HfGpt2ConfigJson() {}

    static byte[] of(ModelShape shape, JsonMapper json) {
        int vocab = shape.vocabSize() == null ? 50257 : shape.vocabSize();
        Map<String, Object> config = new LinkedHashMap<>();
        config.put("architectures", List.of("GPT2LMHeadModel"));
        config.put("model_type", "gpt2");
        config.put("activation_function", "gelu_new");
        config.put("n_layer", shape.nLayer());
        config.put("n_embd", shape.nEmbd());
        config.put("n_head", shape.nHead());
        config.put("n_inner", shape.nInner());
        config.put("n_positions", shape.nPositions());
        config.put("n_ctx", shape.nPositions());
        config.put("vocab_size", vocab);
        config.put("layer_norm_epsilon", 1e-5);
        config.put("initializer_range", 0.02);
        config.put("bos_token_id", END_OF_TEXT);
        config.put("eos_token_id", END_OF_TEXT);
        config.put("tie_word_embeddings", true);
        return json.writerWithDefaultPrettyPrinter().writeValueAsBytes(config);
    }
}
