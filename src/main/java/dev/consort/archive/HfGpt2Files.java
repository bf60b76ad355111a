package dev.consort.archive;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import dev.consort.checkpoint.Checkpoint;
import dev.consort.dataset.Gpt2Tokenizer;
import dev.consort.engine.Gpt2Config;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * The files besides the weights that make a folder Hugging Face's {@code GPT2LMHeadModel.from_pretrained} and
 * {@code AutoTokenizer.from_pretrained} load: a complete {@code config.json}, the GPT-2 tokenizer (shipped as a
 * resource of the service, {@code gpt2-tokenizer/}, with its licence note), its config and special tokens, and the
 * generation settings.
 */
final class HfGpt2Files {

    private static final String TOKENIZER = "gpt2-tokenizer/";
    static final List<String> TOKENIZER_FILES = List.of("vocab.json", "merges.txt", "tokenizer.json");
    private static final String EOS = "<|endoftext|>";

    private HfGpt2Files() {}

    /**
     * The stored config.json with what transformers reads filled in where the upload left it out
     * ({@link Gpt2Config#toHfJson}), and the dtype of the weights in this folder. Keys the upload set are kept.
     */
    static byte[] config(Checkpoint checkpoint, Gpt2Config architecture, String weightsDtype, JsonMapper json) {
        ObjectNode stored = (ObjectNode) json.readTree(checkpoint.configJson());
        ObjectNode config = architecture.toHfJson();
        config.put("torch_dtype", torchDtype(weightsDtype));
        stored.properties().forEach(field -> {
            // What the upload said, except the dtype, which is the weights' in this folder.
            if (!field.getKey().equals("torch_dtype")
                    && (!field.getKey().equals("architectures") || field.getValue().isArray())) {
                config.set(field.getKey(), field.getValue());
            }
        });
        return json.writerWithDefaultPrettyPrinter().writeValueAsBytes(config);
    }

    private static String torchDtype(String dtype) {
        return switch (dtype) {
            case "F16" -> "float16";
            case "BF16" -> "bfloat16";
            case "F64" -> "float64";
            default -> "float32";
        };
    }

    static byte[] tokenizerConfig(Checkpoint checkpoint, JsonMapper json) {
        Map<String, Object> config = new LinkedHashMap<>();
        config.put("tokenizer_class", "GPT2Tokenizer");
        config.put("model_max_length", checkpoint.nPositions());
        config.put("bos_token", EOS);
        config.put("eos_token", EOS);
        config.put("unk_token", EOS);
        config.put("add_prefix_space", false);
        config.put("clean_up_tokenization_spaces", false);
        return json.writerWithDefaultPrettyPrinter().writeValueAsBytes(config);
    }

    static byte[] specialTokensMap(JsonMapper json) {
        return json.writerWithDefaultPrettyPrinter().writeValueAsBytes(
                Map.of("bos_token", EOS, "eos_token", EOS, "unk_token", EOS));
    }

    /** Greedy by default, as the service's completions at temperature 0; max_length the model's context. */
    static byte[] generationConfig(Checkpoint checkpoint, JsonMapper json) {
        Map<String, Object> config = new LinkedHashMap<>();
        config.put("bos_token_id", Gpt2Tokenizer.END_OF_TEXT);
        config.put("eos_token_id", Gpt2Tokenizer.END_OF_TEXT);
        config.put("do_sample", false);
        config.put("max_length", checkpoint.nPositions());
        return json.writerWithDefaultPrettyPrinter().writeValueAsBytes(config);
    }

    /** A tokenizer file or the licence note, from the service's resources. */
    static byte[] resource(String name) {
        try (InputStream in = HfGpt2Files.class.getClassLoader().getResourceAsStream(TOKENIZER + name)) {
            if (in == null) {
                throw new IllegalStateException("the service's jar lacks " + TOKENIZER + name);
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
