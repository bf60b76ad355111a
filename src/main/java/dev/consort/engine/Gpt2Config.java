package dev.consort.engine;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import tools.jackson.core.JacksonException;
import tools.jackson.core.StreamReadFeature;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;

/**
 * The architecture a Hugging Face GPT-2 {@code config.json} describes. Only the fields that fix the
 * shapes and the computation are read; the many other keys HF configs carry are ignored.
 *
 * @param nLayer           transformer blocks
 * @param nEmbd            model width C
 * @param nHead            attention heads; divides {@code nEmbd}
 * @param nInner           MLP width I ({@code n_inner}, 4·C when null or absent)
 * @param vocabSize        V
 * @param nPositions       learned positions P ({@code n_positions}, or the older {@code n_ctx})
 * @param layerNormEpsilon {@code layer_norm_epsilon}, 1e-5 when absent
 */
public record Gpt2Config(int nLayer, int nEmbd, int nHead, int nInner, int vocabSize, int nPositions,
        double layerNormEpsilon) {

    public static final int MAX_LAYERS = 256;
    public static final int MAX_EMBD = 16_384;
    public static final int MAX_INNER = 4 * MAX_EMBD;
    public static final int MAX_VOCAB = 1_000_000;
    public static final int MAX_POSITIONS = 65_536;
    /** The only activation the engine implements (HF's default for GPT-2). */
    public static final String ACTIVATION = "gelu_new";
    /** GPT-2's {@code <|endoftext|>}, its begin- and end-of-sequence token. */
    private static final int END_OF_TEXT = 50256;

    private static final JsonMapper STRICT_JSON = JsonMapper.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .build();

    /** Reads a config.json, reporting every unacceptable field at once. */
    public static Gpt2Config parse(byte[] json) throws Gpt2FormatException {
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(json)).toString();
        } catch (CharacterCodingException e) {
            throw new Gpt2FormatException("config.json", "is not valid UTF-8");
        }
        JsonNode root;
        try {
            root = STRICT_JSON.readTree(text);
        } catch (JacksonException e) {
            throw new Gpt2FormatException("config.json", "is not valid JSON: " + e.getOriginalMessage());
        }
        if (root == null || !root.isObject()) {
            throw new Gpt2FormatException("config.json", "must be a JSON object");
        }
        return fromJson(root);
    }

    /** Reads the fields of an already parsed config.json object. */
    public static Gpt2Config fromJson(JsonNode root) throws Gpt2FormatException {
        List<Gpt2FormatException.Violation> violations = new ArrayList<>();
        Integer nLayer = positiveInt(root, "n_layer", MAX_LAYERS, violations);
        Integer nEmbd = positiveInt(root, "n_embd", MAX_EMBD, violations);
        Integer nHead = positiveInt(root, "n_head", MAX_EMBD, violations);
        Integer vocabSize = positiveInt(root, "vocab_size", MAX_VOCAB, violations);
        Integer nPositions = root.has("n_positions") || !root.has("n_ctx")
                ? positiveInt(root, "n_positions", MAX_POSITIONS, violations)
                : positiveInt(root, "n_ctx", MAX_POSITIONS, violations);
        Integer nInner = null;
        JsonNode inner = root.get("n_inner");
        if (inner != null && !inner.isNull()) {
            nInner = positiveInt(root, "n_inner", MAX_INNER, violations);
        } else if (nEmbd != null) {
            nInner = 4 * nEmbd;
        }
        if (nEmbd != null && nHead != null && nEmbd % nHead != 0) {
            violations.add(new Gpt2FormatException.Violation("n_head",
                    "n_embd (" + nEmbd + ") is not divisible by n_head (" + nHead + ")"));
        }
        JsonNode activation = root.get("activation_function");
        if (activation != null && !(activation.isString() && activation.stringValue().equals(ACTIVATION))) {
            violations.add(new Gpt2FormatException.Violation("activation_function",
                    "is " + activation + " but only \"" + ACTIVATION + "\" is supported"));
        }
        double epsilon = 1e-5;
        JsonNode eps = root.get("layer_norm_epsilon");
        if (eps != null) {
            double value = eps.isNumber() ? eps.doubleValue() : Double.NaN;
            if (value > 0 && value < 1) {
                epsilon = value;
            } else {
                violations.add(new Gpt2FormatException.Violation("layer_norm_epsilon",
                        "is " + eps + " but must be a number between 0 and 1"));
            }
        }
        if (!violations.isEmpty()) {
            throw new Gpt2FormatException(violations);
        }
        return new Gpt2Config(nLayer, nEmbd, nHead, nInner, vocabSize, nPositions, epsilon);
    }

    /**
     * The {@code config.json} of this architecture as {@code transformers} loads it into {@code GPT2LMHeadModel}:
     * the shape, GPT-2's activation and end-of-text token, tied embeddings. Pretraining writes it, and exported
     * model folders start from it.
     */
    public ObjectNode toHfJson() {
        ObjectNode config = JsonNodeFactory.instance.objectNode();
        config.putArray("architectures").add("GPT2LMHeadModel");
        config.put("model_type", "gpt2");
        config.put("activation_function", ACTIVATION);
        config.put("n_layer", nLayer);
        config.put("n_embd", nEmbd);
        config.put("n_head", nHead);
        config.put("n_inner", nInner);
        config.put("n_positions", nPositions);
        config.put("n_ctx", nPositions);
        config.put("vocab_size", vocabSize);
        config.put("layer_norm_epsilon", layerNormEpsilon);
        config.put("initializer_range", 0.02);
        config.put("bos_token_id", END_OF_TEXT);
        config.put("eos_token_id", END_OF_TEXT);
        config.put("tie_word_embeddings", true);
        config.put("scale_attn_weights", true);
        config.put("use_cache", true);
        return config;
    }

    /** Per-head width C / n_head. */
    public int headSize() {
        return nEmbd / nHead;
    }

    private static Integer positiveInt(JsonNode root, String field, int max,
            List<Gpt2FormatException.Violation> violations) {
        JsonNode node = root.get(field);
        if (node == null || node.isNull()) {
            violations.add(new Gpt2FormatException.Violation(field, "missing from config.json"));
            return null;
        }
        if (!node.isIntegralNumber() || !node.canConvertToInt()) {
            violations.add(new Gpt2FormatException.Violation(field, "is " + node + " but must be an integer"));
            return null;
        }
        int value = node.intValue();
        if (value < 1 || value > max) {
            violations.add(new Gpt2FormatException.Violation(field,
                    "is " + value + " but must be between 1 and " + max));
            return null;
        }
        return value;
    }
}
