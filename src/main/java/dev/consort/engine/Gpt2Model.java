package dev.consort.engine;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.ndarray.types.SparseFormat;
import ai.djl.nn.Activation;
import ai.djl.nn.core.Embedding;
import ai.djl.nn.core.Linear;
import ai.djl.nn.norm.LayerNorm;
import dev.consort.safetensors.DType;
import dev.consort.safetensors.SafetensorsReader;
import dev.consort.safetensors.SafetensorsWriter;
import dev.consort.safetensors.TensorInfo;

/**
 * GPT-2 (the Hugging Face {@code GPT2LMHeadModel}) written directly on DJL arrays, in the spirit of
 * nanoGPT's model.py: the whole forward pass reads top to bottom in this class.
 *
 * <p>Parameters are F32 arrays keyed by their bare HF names ({@code h.0.attn.c_attn.weight}), so
 * loading, training, merging and exporting never rename anything. Conv1D weights are {@code [in, out]}
 * and apply as y = xW + b. The output projection is tied to {@code wte.weight}: a stored
 * {@code lm_head.weight} is accepted only when it equals {@code wte.weight} exactly (HF always ties
 * GPT-2's), and is never written back.
 *
 * <p>Memory: the parameters belong to {@link #manager()}. Everything {@link #forward} and {@link #loss}
 * compute belongs to the manager of the {@code tokens} / {@code hidden} argument, so callers pass arrays
 * of a sub-manager ({@code model.manager().newSubManager()}) and close it after each batch. The model
 * may be used by several threads at once for inference; it must not be used while a {@link Trainer}
 * is updating it.
 */
public final class Gpt2Model implements AutoCloseable {

    /** Rows of the {@code [rows, V]} logits the loss holds at a time. */
    public static final int LOSS_CHUNK_ROWS = 512;
    /** Added to attention scores of future positions: exp underflows to exactly 0 after max-subtraction. */
    private static final float MASKED = -1e9f;
    private static final float GELU_SCALE = (float) Math.sqrt(2 / Math.PI);

    /**
     * Receives each layer's outputs during {@link #forward(NDArray, LayerCapture, MlpOverride)}. The
     * arrays belong to the forward pass's manager (that of {@code tokens}) and stay valid until it
     * closes; never close them.
     */
    @FunctionalInterface
    public interface LayerCapture {
        /**
         * @param layer     block index, 0 .. n_layer-1
         * @param mlpOutput the block's MLP output, {@code [B, T, C]} (before it is added to the residual)
         * @param residual  the residual stream after the block, {@code [B, T, C]}
         */
        void layer(int layer, NDArray mlpOutput, NDArray residual);
    }

    /**
     * Replaces the MLP of every block (e.g. a router mixing several experts' MLPs). Implementations may
     * call {@link #mlp(int, NDArray)} on this model or on other models of the same width, for any layer.
     */
    @FunctionalInterface
    public interface MlpOverride {
        /**
         * {@code residual} and {@code normed} belong to the forward pass's manager (that of its
         * {@code tokens}), and so does whatever is computed from them: an override may keep arrays from
         * one layer to the next (e.g. a single router's weights computed at layer 0).
         *
         * @param layer    block index
         * @param residual the residual stream after this block's attention, {@code [B, T, C]}
         * @param normed   {@code ln_2(residual)}, the input of the block's own MLP, {@code [B, T, C]}
         * @return the MLP output {@code [B, T, C]}, added to the residual stream
         */
        NDArray mlp(int layer, NDArray residual, NDArray normed);
    }

    private final Gpt2Config config;
    private final NDManager manager;
    private final Map<String, NDArray> parameters;

    private Gpt2Model(Gpt2Config config, NDManager manager, Map<String, NDArray> parameters) {
        this.config = config;
        this.manager = manager;
        this.parameters = parameters;
    }

    /**
     * Loads HF GPT-2 weights (F32, F16, BF16 or F64; bare or {@code transformer.}-prefixed names) into F32
     * parameters on {@code device}. The tensors are checked against {@code config} first; the
     * {@code attn.bias} / {@code attn.masked_bias} buffers are ignored.
     *
     * @throws Gpt2FormatException naming the tensor, when the weights do not fit {@code config} or a stored
     *                             {@code lm_head.weight} differs from {@code wte.weight}
     */
    public static Gpt2Model load(Path safetensors, Gpt2Config config, Device device)
            throws IOException, Gpt2FormatException {
        try (SafetensorsReader reader = SafetensorsReader.open(safetensors)) {
            Gpt2Weights weights = Gpt2TensorLayout.check(config, reader.header().tensors());
            if (weights.hasLmHead()) {
                String wte = weights.tensors().get("wte.weight").name();
                if (!Arrays.equals(reader.floats(Gpt2TensorLayout.LM_HEAD), reader.floats(wte))) {
                    throw new Gpt2FormatException(Gpt2TensorLayout.LM_HEAD,
                            "differs from wte.weight; GPT-2's output projection is tied to the token embedding");
                }
            }
            NDManager manager = NDManager.newBaseManager(device);
            try {
                Map<String, NDArray> parameters = new LinkedHashMap<>();
                for (String name : Gpt2TensorLayout.expected(config).keySet()) {
                    NDArray parameter = reader.array(weights.tensors().get(name).name(), manager);
                    parameter.setName(name);
                    parameters.put(name, parameter);
                }
                return new Gpt2Model(config, manager, parameters);
            } catch (IOException | RuntimeException e) {
                manager.close();
                throw e;
            }
        }
    }

    /**
     * A freshly initialised model, as GPT-2 initialises one: weights (embeddings included) from
     * N(0, 0.02), the residual projections {@code attn.c_proj.weight} and {@code mlp.c_proj.weight} from
     * N(0, 0.02/sqrt(2·n_layer)), biases 0, layer-norm weights 1. The values come from a Java generator
     * seeded with {@code seed}, so they are the same on every device.
     */
    public static Gpt2Model randomInit(Gpt2Config config, long seed, Device device) {
        SplittableRandom random = new SplittableRandom(seed);
        double residualStd = 0.02 / Math.sqrt(2.0 * config.nLayer());
        NDManager manager = NDManager.newBaseManager(device);
        Map<String, NDArray> parameters = new LinkedHashMap<>();
        for (Map.Entry<String, long[]> tensor : Gpt2TensorLayout.expected(config).entrySet()) {
            String name = tensor.getKey();
            Shape shape = new Shape(tensor.getValue());
            NDArray parameter;
            if (name.endsWith(".bias")) {
                parameter = manager.zeros(shape);
            } else if (name.startsWith("ln_") || name.contains(".ln_")) {
                parameter = manager.ones(shape);
            } else {
                double std = name.endsWith(".c_proj.weight") ? residualStd : 0.02;
                float[] values = new float[Math.toIntExact(shape.size())];
                for (int i = 0; i < values.length; i++) {
                    values[i] = (float) (random.nextGaussian() * std);
                }
                parameter = ownedArray(manager, values, shape);
            }
            parameter.setName(name);
            parameters.put(name, parameter);
        }
        return new Gpt2Model(config, manager, parameters);
    }

    /** Writes the weights in HF format: bare names in layout order, F32 or F16, no {@code lm_head.weight}. */
    public void save(Path file, DType dtype) throws IOException {
        List<SafetensorsWriter.Tensor> tensors = new ArrayList<>();
        for (Map.Entry<String, NDArray> parameter : parameters.entrySet()) {
            NDArray array = parameter.getValue();
            tensors.add(new SafetensorsWriter.Tensor(parameter.getKey(), array.getShape().getShape(),
                    () -> hostFloats(array)));
        }
        SafetensorsWriter.write(file, tensors, dtype);
    }

    public Gpt2Config config() {
        return config;
    }

    public Device device() {
        return manager.getDevice();
    }

    /** The manager that owns the parameters; make a sub-manager of it for each batch. */
    public NDManager manager() {
        return manager;
    }

    /** The parameters by bare HF name in layout order (read-only map; the arrays are the live parameters). */
    public Map<String, NDArray> parameters() {
        return Collections.unmodifiableMap(parameters);
    }

    public NDArray parameter(String name) {
        NDArray parameter = parameters.get(name);
        if (parameter == null) {
            throw new IllegalArgumentException("no parameter " + name);
        }
        return parameter;
    }

    /** Elements of all parameters (the tied output projection counted once). */
    public long parameterCount() {
        return parameters.values().stream().mapToLong(NDArray::size).sum();
    }

    /** The hidden states after {@code ln_f}, {@code [B, T, C]}, of token ids {@code [B, T]} (INT32 or INT64). */
    public NDArray forward(NDArray tokens) {
        return forward(tokens, null, null);
    }

    /**
     * The forward pass: token and learned position embeddings, n_layer pre-LN blocks (causal multi-head
     * self-attention, then the MLP, each added to the residual stream), and the final layer norm.
     * No dropout. Everything computed belongs to {@code tokens}' manager.
     *
     * @param tokens      token ids {@code [B, T]}, T at most n_positions
     * @param capture     receives each layer's MLP output and residual stream; null for none
     * @param mlpOverride replaces every block's MLP; null for the model's own
     * @return the hidden states after {@code ln_f}, {@code [B, T, C]}
     */
    public NDArray forward(NDArray tokens, LayerCapture capture, MlpOverride mlpOverride) {
        return forward(tokens, capture, mlpOverride, null);
    }

    /**
     * The forward pass of the positions after those {@code cache} holds, for generation: every attention reads the
     * cached keys and values of the earlier positions, and the cache takes the new positions' own. The hidden
     * states equal those of the same positions in a forward pass over the whole sequence.
     *
     * @param tokens      the new token ids {@code [B, T]}; the cache's length plus T at most n_positions
     * @param mlpOverride replaces every block's MLP (a routed model); null for the model's own
     * @return the hidden states of the new positions after {@code ln_f}, {@code [B, T, C]}
     */
    public NDArray forwardCached(NDArray tokens, MlpOverride mlpOverride, KvCache cache) {
        return forward(tokens, null, mlpOverride, java.util.Objects.requireNonNull(cache, "cache"));
    }

    private NDArray forward(NDArray tokens, LayerCapture capture, MlpOverride mlpOverride, KvCache cache) {
        Shape shape = tokens.getShape();
        int past = cache == null ? 0 : cache.length();
        if (shape.dimension() != 2 || shape.get(1) < 1 || past + shape.get(1) > config.nPositions()) {
            throw new IllegalArgumentException("tokens must be [B, T] with 1 <= T and " + past + " cached + T <= "
                    + "n_positions (" + config.nPositions() + "), not " + shape);
        }
        long time = shape.get(1);
        NDManager scope = tokens.getManager();
        // A copy PyTorch owns: the embedding's backward keeps the ids, which may outlive a Java-owned buffer.
        NDArray ids = tokens.toType(DataType.INT64, true);                                          // [B, T]
        NDArray positions = scope.arange(past, past + (int) time, 1, DataType.INT64);                // [T]
        NDArray x = embedding(ids, parameter("wte.weight"))                                         // [B, T, C]
                .add(embedding(positions, parameter("wpe.weight")));                                // + [T, C]
        NDArray causalMask = causalMask(scope, (int) time, past);                                   // [T, P + T]
        for (int layer = 0; layer < config.nLayer(); layer++) {
            String h = "h." + layer + ".";
            // Sub-managers free the attention's and the MLP's large intermediates ([B, H, T, T], [B, T, I])
            // as soon as they are done (autograd keeps what the backward pass needs); only [B, T, C]
            // results come back to the caller's manager.
            NDArray attended;                                                                       // [B, T, C]
            try (NDManager block = scope.newSubManager()) {
                x.tempAttach(block);
                attended = block.ret(x.add(attention(layer, layerNorm(x, h + "ln_1"), causalMask, cache)));
            }
            NDArray mlpOutput;                                                                      // [B, T, C]
            if (mlpOverride == null) {
                try (NDManager block = scope.newSubManager()) {
                    attended.tempAttach(block);
                    mlpOutput = block.ret(mlp(layer, layerNorm(attended, h + "ln_2")));
                }
            } else {
                // In the caller's manager, so what an override keeps across layers (a router's weights) lives on.
                mlpOutput = mlpOverride.mlp(layer, attended, layerNorm(attended, h + "ln_2"));
            }
            x = attended.add(mlpOutput);                                                            // [B, T, C]
            if (capture != null) {
                capture.layer(layer, mlpOutput, x);
            }
        }
        if (cache != null) {
            cache.advance((int) time);
        }
        return layerNorm(x, "ln_f");                                                                // [B, T, C]
    }

    /**
     * Causal multi-head self-attention of block {@code layer} on {@code x = ln_1(h)}, {@code [B, T, C]}; with a
     * cache, the queries of the new positions attend to the cached positions' keys and values too.
     */
    private NDArray attention(int layer, NDArray x, NDArray causalMask, KvCache cache) {
        long batch = x.getShape().get(0);
        long time = x.getShape().get(1);
        int heads = config.nHead();
        int headSize = config.headSize();
        String h = "h." + layer + ".attn.";
        // One matmul makes the queries, keys and values of every head.
        NDArray qkv = x.matMul(parameter(h + "c_attn.weight")).add(parameter(h + "c_attn.bias"));  // [B, T, 3C]
        NDList split = qkv.split(3, 2);                                                             // 3 × [B, T, C]
        NDArray q = split.get(0).reshape(batch, time, heads, headSize).transpose(0, 2, 1, 3);     // [B, H, T, hs]
        NDArray k = split.get(1).reshape(batch, time, heads, headSize).transpose(0, 2, 1, 3);     // [B, H, T, hs]
        NDArray v = split.get(2).reshape(batch, time, heads, headSize).transpose(0, 2, 1, 3);     // [B, H, T, hs]
        if (cache != null) {
            NDArray[] cached = cache.extend(layer, k, v);
            k = cached[0];                                                                          // [B, H, P + T, hs]
            v = cached[1];                                                                          // [B, H, P + T, hs]
        }
        // Scaling q (T·hs values) is cheaper than scaling the scores (T·T).
        NDArray scores = q.mul(constant(q, (float) (1 / Math.sqrt(headSize))))                     // [B, H, T, hs]
                .matMul(k.transpose(0, 1, 3, 2))                                                    // [B, H, T, P + T]
                .add(causalMask);
        NDArray y = scores.softmax(-1).matMul(v)                                                    // [B, H, T, hs]
                .transpose(0, 2, 1, 3).reshape(batch, time, config.nEmbd());                        // [B, T, C]
        return y.matMul(parameter(h + "c_proj.weight")).add(parameter(h + "c_proj.bias"));         // [B, T, C]
    }

    /**
     * The MLP of block {@code layer} on {@code x = ln_2(h)}: c_fc, gelu_new, c_proj. Public so that an
     * {@link MlpOverride} can mix the MLPs of several models or layers.
     *
     * @param x {@code [B, T, C]}
     * @return {@code [B, T, C]}, belonging to {@code x}'s manager
     */
    public NDArray mlp(int layer, NDArray x) {
        String h = "h." + layer + ".mlp.";
        NDArray hidden = x.matMul(parameter(h + "c_fc.weight")).add(parameter(h + "c_fc.bias"));  // [B, T, I]
        return geluNew(hidden).matMul(parameter(h + "c_proj.weight")).add(parameter(h + "c_proj.bias")); // [B, T, C]
    }

    /**
     * HF's gelu_new, the tanh approximation GPT-2 was trained with: 0.5x(1 + tanh(√(2/π)(x + 0.044715x³))),
     * computed as the identical x·sigmoid(x(2√(2/π) + 2√(2/π)·0.044715·x²)) because 0.5(1 + tanh z) =
     * sigmoid(2z): six elementwise passes instead of nine, the MLP's largest cost after its matmuls.
     */
    private static NDArray geluNew(NDArray x) {
        NDArray inner = x.square().muli(constant(x, 2 * GELU_SCALE * 0.044715f)).addi(constant(x, 2 * GELU_SCALE));
        return x.mul(Activation.sigmoid(inner.mul(x)));
    }

    /**
     * A scalar in memory PyTorch owns, in {@code like}'s manager. Never use DJL's {@code op(Number)}
     * overloads on arrays that need gradients: they wrap the number in a Java buffer that is freed right
     * after the op, while autograd keeps that operand for the backward pass (a use-after-free that shows
     * up as random NaNs after a garbage collection).
     */
    static NDArray constant(NDArray like, float value) {
        return like.getManager().full(new Shape(), value, DataType.FLOAT32);
    }

    private NDArray layerNorm(NDArray x, String prefix) {
        return LayerNorm.layerNorm(x, new Shape(config.nEmbd()), parameter(prefix + ".weight"),
                parameter(prefix + ".bias"), (float) config.layerNormEpsilon()).singletonOrThrow();
    }

    private static NDArray embedding(NDArray ids, NDArray table) {
        return Embedding.embedding(ids, table, SparseFormat.DENSE).singletonOrThrow();
    }

    /**
     * {@code [T, P + T]}: 0 where a new position may attend (the {@code past} cached positions, itself and the new
     * ones before it), a large negative number for the future. It wraps a Java buffer, which is safe only because
     * addition's backward pass does not keep its operands.
     */
    private static NDArray causalMask(NDManager scope, int time, int past) {
        int keys = past + time;
        float[] mask = new float[time * keys];
        for (int query = 0; query < time; query++) {
            Arrays.fill(mask, query * keys + past + query + 1, (query + 1) * keys, MASKED);
        }
        return scope.create(mask, new Shape(time, keys));
    }

    /**
     * The next-token logits of each position: h·wteᵀ (the tied output projection).
     *
     * @param hidden hidden states after {@code ln_f}, {@code [B, C]} (or {@code [N, C]})
     * @return {@code [B, V]}, in {@code hidden}'s manager
     */
    public NDArray logits(NDArray hidden) {
        return Linear.linear(hidden, parameter("wte.weight")).singletonOrThrow();                   // [B, V]
    }

    /**
     * Mean cross-entropy of predicting {@code targets} from {@code hidden}: the loss of every position.
     * Differentiable (it sums the chunks' losses in one graph).
     *
     * @param hidden  the output of {@link #forward}, {@code [B, T, C]} (or {@code [N, C]})
     * @param targets the next tokens, {@code [B, T]} (or {@code [N]}), INT32 or INT64
     * @return a scalar
     */
    public NDArray loss(NDArray hidden, NDArray targets) {
        NDArray sum = crossEntropySum(hidden, targets, LOSS_CHUNK_ROWS);
        return sum.div(constant(sum, targets.size()));
    }

    /**
     * The summed cross-entropy over every position, computed {@code chunkRows} rows at a time so the
     * {@code [N, V]} logits never exist at once ({@link #chunkCrossEntropy}). Each chunk's intermediates live in
     * a sub-manager closed right after it, so in evaluation only one chunk's logits are in memory. Differentiable.
     *
     * @return a scalar belonging to {@code hidden}'s manager
     */
    public NDArray crossEntropySum(NDArray hidden, NDArray targets, int chunkRows) {
        long rows = checkedRows(hidden, targets);
        NDArray h = hidden.reshape(rows, config.nEmbd());                                           // [N, C]
        NDArray ids = targets.reshape(rows, 1).toType(DataType.INT64, true);                       // [N, 1]
        NDArray total = null;
        for (long start = 0; start < rows; start += chunkRows) {
            try (NDManager chunk = hidden.getManager().newSubManager()) {
                NDArray nll = chunkCrossEntropy(h, ids, start, Math.min(rows, start + chunkRows), chunk)
                        .sum();                                                                     // scalar
                chunk.ret(nll);
                total = total == null ? nll : total.add(nll);
            }
        }
        return total;
    }

    /**
     * The cross-entropy of every position, chunked like {@link #crossEntropySum} but copied to the heap chunk by
     * chunk, for evaluation (not differentiable): entry i is −log p(targets[i] | hidden[i]).
     */
    public float[] crossEntropyOfEachPosition(NDArray hidden, NDArray targets, int chunkRows) {
        int rows = Math.toIntExact(checkedRows(hidden, targets));
        float[] losses = new float[rows];
        try (NDManager scope = hidden.getManager().newSubManager()) {
            scope.tempAttachAll(hidden, targets);
            NDArray h = hidden.reshape(rows, config.nEmbd());                                       // [N, C]
            NDArray ids = targets.reshape(rows, 1).toType(DataType.INT64, true);                   // [N, 1]
            for (int start = 0; start < rows; start += chunkRows) {
                try (NDManager chunk = scope.newSubManager()) {
                    float[] nll = chunkCrossEntropy(h, ids, start, Math.min(rows, start + chunkRows), chunk)
                            .toFloatArray();                                                        // [r]
                    System.arraycopy(nll, 0, losses, start, nll.length);
                }
            }
        }
        return losses;
    }

    /** The number of positions, {@code targets.size()}, once {@code hidden} is checked to hold one row per target. */
    private long checkedRows(NDArray hidden, NDArray targets) {
        long rows = targets.size();
        if (hidden.size() != rows * config.nEmbd()) {
            throw new IllegalArgumentException("hidden " + hidden.getShape() + " does not match targets "
                    + targets.getShape());
        }
        return rows;
    }

    /**
     * −log p(target) of rows {@code [start, end)}, in {@code chunk}: logits = h·wteᵀ (the tied output projection),
     * then log-softmax (which subtracts the row maximum before exponentiating) and the target's entry by gather.
     *
     * @param h   every position's hidden state, {@code [N, C]}
     * @param ids every position's target, {@code [N, 1]} INT64
     * @return {@code [r, 1]}
     */
    private NDArray chunkCrossEntropy(NDArray h, NDArray ids, long start, long end, NDManager chunk) {
        NDArray chunkHidden = h.get(new NDIndex("{}:{}", start, end));                              // [r, C]
        NDArray chunkIds = ids.get(new NDIndex("{}:{}", start, end));                               // [r, 1]
        chunkHidden.attach(chunk);
        chunkIds.attach(chunk);
        NDArray logits = logits(chunkHidden);                                                       // [r, V]
        return logits.logSoftmax(-1).gather(chunkIds, 1).neg();                                     // [r, 1]
    }

    /** Replaces a parameter's array (the Trainer restoring weights or dropping gradients); closes the old one. */
    void replaceParameter(String name, NDArray value) {
        NDArray old = parameter(name);
        if (!old.getShape().equals(value.getShape())) {
            throw new IllegalArgumentException(name + " is " + old.getShape() + ", not " + value.getShape());
        }
        value.setName(name);
        value.attach(manager);
        parameters.put(name, value);
        old.close();
    }

    /** Checks a shape against the layout, for restoring tensors saved elsewhere. */
    static void checkShape(String name, TensorInfo stored, NDArray parameter) {
        if (!Arrays.equals(stored.shape(), parameter.getShape().getShape())) {
            throw new IllegalArgumentException(name + " is stored as " + TensorInfo.formatShape(stored.shape())
                    + " but the model has " + parameter.getShape());
        }
    }

    /** An array in memory PyTorch owns holding {@code values} (create() alone would alias a Java buffer). */
    static NDArray ownedArray(NDManager manager, float[] values, Shape shape) {
        ByteBuffer bytes = ByteBuffer.allocateDirect(values.length * Float.BYTES).order(ByteOrder.nativeOrder());
        bytes.asFloatBuffer().put(values);
        try (NDArray view = manager.create(bytes, shape, DataType.FLOAT32)) {
            return view.duplicate();
        }
    }

    /** The array's values, copied to the host. */
    static float[] hostFloats(NDArray array) {
        NDArray onCpu = array.toDevice(Device.cpu(), false);
        try {
            return onCpu.toFloatArray();
        } finally {
            if (onCpu != array) {
                onCpu.close();
            }
        }
    }

    /** Frees every parameter (and anything else still attached to {@link #manager()}). */
    @Override
    public void close() {
        manager.close();
    }
}
