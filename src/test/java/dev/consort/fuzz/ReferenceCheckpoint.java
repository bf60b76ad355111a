package dev.consort.fuzz;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import tools.jackson.core.JacksonException;
import tools.jackson.core.StreamReadFeature;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The fuzz test's own judgement of whether a config.json and a model.safetensors make an acceptable
 * checkpoint, written from the rules the API documents (the safetensors format, HF GPT-2 names and
 * shapes, F32/F16/BF16/F64 weights, no NaN or infinity) rather than from the service's code: the service
 * may answer 2xx only where this says valid, and should not refuse what this accepts.
 */
final class ReferenceCheckpoint {

    private static final JsonMapper JSON = JsonMapper.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION).build();
    private static final long MAX_HEADER = 100L * 1024 * 1024;
    private static final Map<String, Integer> DTYPE_SIZES = Map.ofEntries(
            Map.entry("BOOL", 1), Map.entry("U8", 1), Map.entry("I8", 1), Map.entry("F8_E5M2", 1),
            Map.entry("F8_E4M3", 1), Map.entry("I16", 2), Map.entry("U16", 2), Map.entry("F16", 2),
            Map.entry("BF16", 2), Map.entry("I32", 4), Map.entry("U32", 4), Map.entry("F32", 4),
            Map.entry("I64", 8), Map.entry("U64", 8), Map.entry("F64", 8));
    private static final Set<String> WEIGHT_DTYPES = Set.of("F32", "F16", "BF16", "F64");

    private ReferenceCheckpoint() {}

    /** Why the pair is unacceptable, or null when it is a valid checkpoint. */
    static String whyInvalid(byte[] configJson, byte[] weights) {
        try {
            Map<String, long[]> expected = expectedTensors(configJson);
            if (expected == null) {
                return "config.json";
            }
            return weightsProblem(expected, weights);
        } catch (JacksonException | CharacterCodingException | ArithmeticException e) {
            return e.getClass().getSimpleName();
        }
    }

    private static JsonNode strictJson(byte[] bytes) throws CharacterCodingException {
        String text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes)).toString();
        return JSON.readTree(text);
    }

    /** Bare tensor name → shape of the model config.json describes (lm_head.weight as an optional extra); null if invalid. */
    private static Map<String, long[]> expectedTensors(byte[] configJson) throws CharacterCodingException {
        if (configJson.length > (1 << 20)) {
            return null;
        }
        JsonNode config = strictJson(configJson);
        if (config == null || !config.isObject()) {
            return null;
        }
        Integer layers = positive(config, "n_layer", 256);
        Integer embd = positive(config, "n_embd", 16_384);
        Integer heads = positive(config, "n_head", 16_384);
        Integer vocab = positive(config, "vocab_size", 1_000_000);
        Integer positions = config.has("n_positions") || !config.has("n_ctx")
                ? positive(config, "n_positions", 65_536) : positive(config, "n_ctx", 65_536);
        JsonNode innerNode = config.get("n_inner");
        Integer inner = innerNode == null || innerNode.isNull()
                ? (embd == null ? null : 4 * embd) : positive(config, "n_inner", 4 * 16_384);
        if (layers == null || embd == null || heads == null || vocab == null || positions == null || inner == null
                || embd % heads != 0) {
            return null;
        }
        JsonNode activation = config.get("activation_function");
        if (activation != null && !(activation.isString() && activation.stringValue().equals("gelu_new"))) {
            return null;
        }
        JsonNode epsilon = config.get("layer_norm_epsilon");
        if (epsilon != null && !(epsilon.isNumber() && epsilon.doubleValue() > 0 && epsilon.doubleValue() < 1)) {
            return null;
        }
        long c = embd;
        Map<String, long[]> shapes = new LinkedHashMap<>();
        shapes.put("wte.weight", new long[] {vocab, c});
        shapes.put("wpe.weight", new long[] {positions, c});
        for (int i = 0; i < layers; i++) {
            String h = "h." + i + ".";
            for (String ln : new String[] {"ln_1", "ln_2"}) {
                shapes.put(h + ln + ".weight", new long[] {c});
                shapes.put(h + ln + ".bias", new long[] {c});
            }
            shapes.put(h + "attn.c_attn.weight", new long[] {c, 3 * c});
            shapes.put(h + "attn.c_attn.bias", new long[] {3 * c});
            shapes.put(h + "attn.c_proj.weight", new long[] {c, c});
            shapes.put(h + "attn.c_proj.bias", new long[] {c});
            shapes.put(h + "mlp.c_fc.weight", new long[] {c, inner});
            shapes.put(h + "mlp.c_fc.bias", new long[] {inner});
            shapes.put(h + "mlp.c_proj.weight", new long[] {inner, c});
            shapes.put(h + "mlp.c_proj.bias", new long[] {c});
        }
        shapes.put("ln_f.weight", new long[] {c});
        shapes.put("ln_f.bias", new long[] {c});
        shapes.put("#layers", new long[] {layers});
        return shapes;
    }

    private static Integer positive(JsonNode config, String field, int max) {
        JsonNode node = config.get(field);
        if (node == null || !node.isIntegralNumber() || !node.canConvertToInt()) {
            return null;
        }
        int value = node.intValue();
        return value >= 1 && value <= max ? value : null;
    }

    private record Tensor(String name, String dtype, long[] shape, long begin, long end) {}

    private static String weightsProblem(Map<String, long[]> expected, byte[] file) throws CharacterCodingException {
        if (file.length < 8) {
            return "shorter than 8 bytes";
        }
        long headerLength = ByteBuffer.wrap(file, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        if (headerLength < 0 || headerLength > MAX_HEADER || headerLength > file.length - 8) {
            return "header length " + Long.toUnsignedString(headerLength);
        }
        JsonNode header = strictJson(Arrays.copyOfRange(file, 8, 8 + (int) headerLength));
        if (header == null || !header.isObject()) {
            return "header not an object";
        }
        long dataStart = 8 + headerLength;
        long dataLength = file.length - dataStart;
        List<Tensor> tensors = new ArrayList<>();
        for (Map.Entry<String, JsonNode> entry : header.properties()) {
            JsonNode value = entry.getValue();
            if (entry.getKey().equals("__metadata__")) {
                if (!value.isObject()) {
                    return "metadata not an object";
                }
                for (Map.Entry<String, JsonNode> meta : value.properties()) {
                    if (!meta.getValue().isString()) {
                        return "metadata value not a string";
                    }
                }
                continue;
            }
            if (!value.isObject() || !Set.of("dtype", "shape", "data_offsets").containsAll(value.propertyNames())) {
                return "tensor entry " + entry.getKey();
            }
            JsonNode dtype = value.get("dtype");
            if (dtype == null || !dtype.isString() || !DTYPE_SIZES.containsKey(dtype.stringValue())) {
                return "dtype of " + entry.getKey();
            }
            long[] shape = naturals(value.get("shape"));
            long[] offsets = naturals(value.get("data_offsets"));
            if (shape == null || offsets == null || offsets.length != 2 || offsets[1] < offsets[0]) {
                return "shape or offsets of " + entry.getKey();
            }
            long bytes = DTYPE_SIZES.get(dtype.stringValue());
            for (long dim : shape) {
                bytes = Math.multiplyExact(bytes, dim);
            }
            if (bytes != offsets[1] - offsets[0]) {
                return "offsets of " + entry.getKey() + " disagree with the shape";
            }
            tensors.add(new Tensor(entry.getKey(), dtype.stringValue(), shape, offsets[0], offsets[1]));
        }
        List<Tensor> byOffset = new ArrayList<>(tensors);
        byOffset.sort(Comparator.comparingLong(Tensor::begin).thenComparingLong(Tensor::end));
        long covered = 0;
        for (Tensor tensor : byOffset) {
            if (tensor.begin() != covered || tensor.end() > dataLength) {
                return "offsets do not tile the data at " + tensor.name();
            }
            covered = tensor.end();
        }
        if (covered != dataLength) {
            return "data longer than the tensors";
        }

        int layers = (int) expected.get("#layers")[0];
        Map<String, Tensor> found = new HashMap<>();
        Set<String> checked = new HashSet<>();
        for (Tensor tensor : tensors) {
            String bare = tensor.name().startsWith("transformer.") ? tensor.name().substring(12) : tensor.name();
            if (isMaskBuffer(bare, layers)) {
                continue;
            }
            long[] shape = expected.get(bare);
            if (shape == null || bare.startsWith("#")) {
                if (!tensor.name().equals("lm_head.weight")) {
                    return "unexpected tensor " + tensor.name();
                }
                shape = expected.get("wte.weight");
            }
            if (found.putIfAbsent(bare, tensor) != null) {
                return "tensor twice: " + bare;
            }
            if (!Arrays.equals(shape, tensor.shape()) || !WEIGHT_DTYPES.contains(tensor.dtype())) {
                return "shape or dtype of " + tensor.name();
            }
            checked.add(bare);
        }
        for (String name : expected.keySet()) {
            if (!name.startsWith("#") && !found.containsKey(name)) {
                return "missing " + name;
            }
        }
        for (String bare : checked) {
            Tensor tensor = found.get(bare);
            if (!allFinite(file, dataStart + tensor.begin(), dataStart + tensor.end(), tensor.dtype())) {
                return "non-finite value in " + tensor.name();
            }
        }
        return null;
    }

    /** h.{i}.attn.bias and h.{i}.attn.masked_bias of an existing layer i, written without leading zeros. */
    private static boolean isMaskBuffer(String bare, int layers) {
        for (String suffix : new String[] {".attn.bias", ".attn.masked_bias"}) {
            if (bare.startsWith("h.") && bare.endsWith(suffix)) {
                String layer = bare.substring(2, bare.length() - suffix.length());
                return layer.matches("0|[1-9][0-9]{0,2}") && Integer.parseInt(layer) < layers;
            }
        }
        return false;
    }

    private static long[] naturals(JsonNode array) {
        if (array == null || !array.isArray()) {
            return null;
        }
        long[] values = new long[array.size()];
        for (int i = 0; i < values.length; i++) {
            JsonNode value = array.get(i);
            if (!value.isIntegralNumber() || !value.canConvertToLong() || value.longValue() < 0) {
                return null;
            }
            values[i] = value.longValue();
        }
        return values;
    }

    private static boolean allFinite(byte[] file, long from, long to, String dtype) {
        ByteBuffer data = ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN);
        for (int at = (int) from; at < to; ) {
            switch (dtype) {
                case "F64" -> {
                    if (!Double.isFinite(data.getDouble(at))) {
                        return false;
                    }
                    at += 8;
                }
                case "F32" -> {
                    if (!Float.isFinite(data.getFloat(at))) {
                        return false;
                    }
                    at += 4;
                }
                // F16: exponent bits 0x7C00 all set is infinity or NaN. BF16: the top half of an F32.
                case "F16" -> {
                    if ((data.getShort(at) & 0x7C00) == 0x7C00) {
                        return false;
                    }
                    at += 2;
                }
                case "BF16" -> {
                    if (!Float.isFinite(Float.intBitsToFloat((data.getShort(at) & 0xFFFF) << 16))) {
                        return false;
                    }
                    at += 2;
                }
                default -> throw new IllegalArgumentException(dtype);
            }
        }
        return true;
    }
}
