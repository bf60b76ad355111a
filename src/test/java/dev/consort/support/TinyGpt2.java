package dev.consort.support;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import java.util.Set;

import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * A tiny Hugging Face GPT-2 checkpoint built in the test: config.json plus model.safetensors with
 * random weights, in HF names and shapes (Conv1D weights [in, out]), with knobs to break it.
 */
public final class TinyGpt2 {

    private static final JsonMapper JSON = JsonMapper.builder().build();

    public int nLayer = 2;
    public int nEmbd = 8;
    public int nHead = 2;
    public Integer nInner = null;
    public int vocabSize = 64;
    public int nPositions = 16;
    /** {@code "transformer."} or {@code ""}. */
    public String prefix = "transformer.";
    public String dtype = "F32";
    public boolean lmHead = false;
    /** Adds the h.i.attn.bias / h.i.attn.masked_bias buffers old exports carry. */
    public boolean attentionBuffers = false;
    public long seed = 1;

    private final Map<String, long[]> shapeOverrides = new HashMap<>();
    private final Map<String, String> dtypeOverrides = new HashMap<>();
    private final Set<String> omitted = new HashSet<>();
    private final Map<String, Float> poison = new HashMap<>();
    private final Map<String, long[]> extra = new LinkedHashMap<>();

    public TinyGpt2 vocab(int v) {
        vocabSize = v;
        return this;
    }

    public TinyGpt2 bare() {
        prefix = "";
        return this;
    }

    public TinyGpt2 dtype(String d) {
        dtype = d;
        return this;
    }

    public TinyGpt2 withLmHead() {
        lmHead = true;
        return this;
    }

    public TinyGpt2 withAttentionBuffers() {
        attentionBuffers = true;
        return this;
    }

    public TinyGpt2 seed(long s) {
        seed = s;
        return this;
    }

    /** Stores the bare-named tensor with another shape. */
    public TinyGpt2 shape(String bareName, long... shape) {
        shapeOverrides.put(bareName, shape);
        return this;
    }

    public TinyGpt2 tensorDtype(String bareName, String d) {
        dtypeOverrides.put(bareName, d);
        return this;
    }

    public TinyGpt2 omit(String bareName) {
        omitted.add(bareName);
        return this;
    }

    /** Sets element 0 of the bare-named tensor to {@code value} (NaN, infinity). */
    public TinyGpt2 poison(String bareName, float value) {
        poison.put(bareName, value);
        return this;
    }

    /** Adds a tensor under exactly this stored name. */
    public TinyGpt2 extra(String storedName, long... shape) {
        extra.put(storedName, shape);
        return this;
    }

    public byte[] config() {
        ObjectNode config = JSON.createObjectNode();
        config.put("model_type", "gpt2");
        config.putArray("architectures").add("GPT2LMHeadModel");
        config.put("activation_function", "gelu_new");
        config.put("n_layer", nLayer);
        config.put("n_embd", nEmbd);
        config.put("n_head", nHead);
        if (nInner != null) {
            config.put("n_inner", nInner);
        } else {
            config.putNull("n_inner");
        }
        config.put("vocab_size", vocabSize);
        config.put("n_positions", nPositions);
        config.put("n_ctx", nPositions);
        config.put("layer_norm_epsilon", 1e-5);
        config.put("torch_dtype", "float32");
        return JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(config);
    }

    /** Bare names and shapes of every parameter, in HF order. */
    public Map<String, long[]> parameters() {
        long c = nEmbd;
        long inner = nInner == null ? 4L * nEmbd : nInner;
        Map<String, long[]> shapes = new LinkedHashMap<>();
        shapes.put("wte.weight", new long[] {vocabSize, c});
        shapes.put("wpe.weight", new long[] {nPositions, c});
        for (int i = 0; i < nLayer; i++) {
            String h = "h." + i + ".";
            shapes.put(h + "ln_1.weight", new long[] {c});
            shapes.put(h + "ln_1.bias", new long[] {c});
            shapes.put(h + "attn.c_attn.weight", new long[] {c, 3 * c});
            shapes.put(h + "attn.c_attn.bias", new long[] {3 * c});
            shapes.put(h + "attn.c_proj.weight", new long[] {c, c});
            shapes.put(h + "attn.c_proj.bias", new long[] {c});
            shapes.put(h + "ln_2.weight", new long[] {c});
            shapes.put(h + "ln_2.bias", new long[] {c});
            shapes.put(h + "mlp.c_fc.weight", new long[] {c, inner});
            shapes.put(h + "mlp.c_fc.bias", new long[] {inner});
            shapes.put(h + "mlp.c_proj.weight", new long[] {inner, c});
            shapes.put(h + "mlp.c_proj.bias", new long[] {c});
        }
        shapes.put("ln_f.weight", new long[] {c});
        shapes.put("ln_f.bias", new long[] {c});
        if (lmHead) {
            shapes.put("lm_head.weight", new long[] {vocabSize, c});
        }
        return shapes;
    }

    /** The parameter count the service should report. */
    public long parameterCount() {
        return parameters().values().stream().mapToLong(TinyGpt2::elements).sum();
    }

    public TestSafetensors tensors() {
        Random random = new Random(seed);
        TestSafetensors file = new TestSafetensors().metadata("format", "pt");
        for (Map.Entry<String, long[]> p : parameters().entrySet()) {
            String bare = p.getKey();
            if (omitted.contains(bare)) {
                continue;
            }
            long[] shape = shapeOverrides.getOrDefault(bare, p.getValue());
            String d = dtypeOverrides.getOrDefault(bare, dtype);
            String stored = bare.equals("lm_head.weight") ? bare : prefix + bare;
            byte[] data = randomValues(d, elements(shape), random);
            if (poison.containsKey(bare)) {
                write(d, data, 0, poison.get(bare));
            }
            file.add(stored, d, shape, data);
            if (attentionBuffers && bare.endsWith(".attn.c_proj.bias")) {
                String h = prefix + bare.substring(0, bare.length() - ".attn.c_proj.bias".length());
                // As old exports hold them: a causal mask and a -1e4 (here -inf: buffers are not checked).
                file.add(h + ".attn.bias", "U8", new long[] {1, 1, nPositions, nPositions},
                        new byte[nPositions * nPositions]);
                file.add(h + ".attn.masked_bias", "F32", new long[] {}, TestSafetensors.f32(Float.NEGATIVE_INFINITY));
            }
        }
        for (Map.Entry<String, long[]> e : extra.entrySet()) {
            file.add(e.getKey(), dtype, e.getValue(), randomValues(dtype, elements(e.getValue()), random));
        }
        return file;
    }

    public byte[] weights() {
        return tensors().toBytes();
    }

    private static long elements(long[] shape) {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        return n;
    }

    private static int size(String dtype) {
        return switch (dtype) {
            case "F64", "I64" -> 8;
            case "F32", "I32" -> 4;
            case "F16", "BF16", "I16" -> 2;
            default -> 1;
        };
    }

    private static byte[] randomValues(String dtype, long count, Random random) {
        byte[] data = new byte[Math.toIntExact(count * size(dtype))];
        for (int i = 0; i < count; i++) {
            write(dtype, data, i, (random.nextFloat() - 0.5f) * 0.2f);
        }
        return data;
    }

    private static void write(String dtype, byte[] data, int index, float value) {
        ByteBuffer out = ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN);
        int bits = Float.floatToRawIntBits(value);
        switch (dtype) {
            case "F64" -> out.putDouble(index * 8, value);
            case "F32" -> out.putFloat(index * 4, value);
            case "BF16" -> out.putShort(index * 2, (short) (bits >>> 16));
            case "F16" -> out.putShort(index * 2, toHalf(value));
            case "I32" -> out.putInt(index * 4, Math.round(value * 1000));
            default -> out.put(index * size(dtype), (byte) 1);
        }
    }

    /** float to binary16 by truncation; enough for test values (normal, small) and NaN/infinity. */
    private static short toHalf(float value) {
        int bits = Float.floatToRawIntBits(value);
        int sign = (bits >>> 16) & 0x8000;
        if (Float.isNaN(value)) {
            return (short) 0x7E00;
        }
        if (Float.isInfinite(value)) {
            return (short) (sign | 0x7C00);
        }
        int exponent = ((bits >>> 23) & 0xFF) - 127 + 15;
        if (exponent <= 0) {
            return (short) sign;
        }
        return (short) (sign | (exponent << 10) | ((bits >>> 13) & 0x3FF));
    }
}
