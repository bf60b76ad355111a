package dev.consort.engine;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import dev.consort.safetensors.DType;
import dev.consort.safetensors.TensorInfo;

/**
 * The tensors of a Hugging Face GPT-2 checkpoint, by their bare HF names ({@code h.0.attn.c_attn.weight}).
 * Conv1D weights are stored {@code [in, out]} (y = xW + b). Files may prefix every name but
 * {@code lm_head.weight} with {@code transformer.}; {@code lm_head.weight} is optional (tied to
 * {@code wte.weight}); the attention buffers {@code h.i.attn.bias} and {@code h.i.attn.masked_bias}
 * are not parameters and are ignored.
 */
public final class Gpt2TensorLayout {

    public static final String PREFIX = "transformer.";
    public static final String LM_HEAD = "lm_head.weight";
    /** The dtypes weights may be stored in; the engine widens them to float while loading. */
    public static final Set<DType> WEIGHT_DTYPES = EnumSet.of(DType.F32, DType.F16, DType.BF16, DType.F64);

    private Gpt2TensorLayout() {}

    /** Every tensor a model of {@code config} has, in HF order, with its shape; {@code lm_head.weight} excluded. */
    public static Map<String, long[]> expected(Gpt2Config config) {
        long v = config.vocabSize();
        long p = config.nPositions();
        long c = config.nEmbd();
        long inner = config.nInner();
        Map<String, long[]> shapes = new LinkedHashMap<>();
        shapes.put("wte.weight", new long[] {v, c});
        shapes.put("wpe.weight", new long[] {p, c});
        for (int i = 0; i < config.nLayer(); i++) {
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
        return shapes;
    }

    /** The shape {@code lm_head.weight} must have when it is stored: [V, C], like {@code wte.weight}. */
    public static long[] lmHeadShape(Gpt2Config config) {
        return new long[] {config.vocabSize(), config.nEmbd()};
    }

    /** Whether a bare name is one of the causal-mask buffers old exports carry, which hold no parameters. */
    public static boolean isIgnoredBuffer(String bareName, Gpt2Config config) {
        for (String suffix : new String[] {".attn.bias", ".attn.masked_bias"}) {
            if (bareName.startsWith("h.") && bareName.endsWith(suffix)) {
                String layer = bareName.substring(2, bareName.length() - suffix.length());
                return layer.matches("0|[1-9][0-9]{0,2}") && Integer.parseInt(layer) < config.nLayer();
            }
        }
        return false;
    }

    /** The bare HF name of a stored name: without the {@code transformer.} prefix, if it has one. */
    public static String bareName(String storedName) {
        return storedName.startsWith(PREFIX) ? storedName.substring(PREFIX.length()) : storedName;
    }

    /**
     * Checks stored tensors against the layout {@code config} implies: every tensor present once with its
     * shape and a weight dtype, nothing unknown. Reports every problem found.
     */
    public static Gpt2Weights check(Gpt2Config config, Collection<TensorInfo> stored) throws Gpt2FormatException {
        Map<String, long[]> expected = expected(config);
        List<Gpt2FormatException.Violation> violations = new ArrayList<>();
        Map<String, TensorInfo> found = new LinkedHashMap<>();
        for (TensorInfo tensor : stored) {
            String name = tensor.name();
            String bare = bareName(name);
            if (isIgnoredBuffer(bare, config)) {
                continue;
            }
            long[] shape;
            if (expected.containsKey(bare)) {
                shape = expected.get(bare);
            } else if (name.equals(LM_HEAD)) {
                shape = lmHeadShape(config);
            } else {
                violations.add(new Gpt2FormatException.Violation(name, unexpectedReason(bare)));
                continue;
            }
            TensorInfo earlier = found.putIfAbsent(bare, tensor);
            if (earlier != null) {
                violations.add(new Gpt2FormatException.Violation(name,
                        "names the same tensor as " + earlier.name() + " (the transformer. prefix is optional)"));
                continue;
            }
            if (!Arrays.equals(tensor.shape(), shape)) {
                violations.add(new Gpt2FormatException.Violation(name, "shape " + TensorInfo.formatShape(tensor.shape())
                        + " but config.json implies " + TensorInfo.formatShape(shape)));
            }
            if (!WEIGHT_DTYPES.contains(tensor.dtype())) {
                violations.add(new Gpt2FormatException.Violation(name, "dtype " + tensor.dtype()
                        + " is not accepted; weights must be F32, F16, BF16 or F64"));
            }
        }
        for (Map.Entry<String, long[]> tensor : expected.entrySet()) {
            if (!found.containsKey(tensor.getKey())) {
                violations.add(new Gpt2FormatException.Violation(tensor.getKey(),
                        "missing (config.json implies shape " + TensorInfo.formatShape(tensor.getValue()) + ")"));
            }
        }
        if (!violations.isEmpty()) {
            throw new Gpt2FormatException(violations);
        }
        Map<String, TensorInfo> inLayoutOrder = new LinkedHashMap<>();
        for (String name : expected.keySet()) {
            inLayoutOrder.put(name, found.get(name));
        }
        if (found.containsKey(LM_HEAD)) {
            inLayoutOrder.put(LM_HEAD, found.get(LM_HEAD));
        }
        return new Gpt2Weights(inLayoutOrder);
    }

    private static String unexpectedReason(String bare) {
        if (bare.equals(LM_HEAD)) {
            return "unexpected tensor: lm_head.weight is stored without the transformer. prefix";
        }
        return "unexpected tensor: not part of the GPT-2 model config.json describes";
    }
}
