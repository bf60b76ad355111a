package dev.consort.engine;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The memory a training step or an evaluation pass holds at its peak, from the model's shape and the batch alone
 * (float32 everywhere), so that a job too big for a worker is refused at submission instead of killing it. Parts:
 * the weights; the gradients and AdamW's two moments of the trained tensors; the activations autograd keeps for
 * backward, B·T·(9C + 2·inner) floats per layer (ln_1, q/k/v, attention output, projection, residual, ln_2, the
 * MLP's hidden before and after GELU, its projection); attention scores and probabilities, 2·B·H·T² floats per
 * layer; one loss chunk's {@code [rows, V]} logits ({@link Gpt2Model#LOSS_CHUNK_ROWS} rows: logits, their softmax
 * and gradient); the Java heap's token arrays, two {@code int[B·T]}; and, for CKA, its float64 Gram accumulators.
 * Evaluation keeps one layer's activations at a time.
 */
public record MemoryEstimate(long weights, long gradients, long optimizer, long activations, long attention,
        long logits, long hostArrays, long statistics) {

    private static final long FLOAT = 4;

    public long total() {
        long total = 0;
        for (long part : new long[] {weights, gradients, optimizer, activations, attention, logits, hostArrays,
            statistics}) {
            total = part > Long.MAX_VALUE - total ? Long.MAX_VALUE : total + part;
        }
        return total;
    }

    /** The product, or Long.MAX_VALUE where it overflows: an absurd request stays absurd, never negative. */
    public static long product(long... factors) {
        long product = 1;
        try {
            for (long factor : factors) {
                product = Math.multiplyExact(product, factor);
            }
            return product;
        } catch (ArithmeticException overflow) {
            return Long.MAX_VALUE;
        }
    }

    /** Parameters of a GPT-2 with a tied output projection. */
    public static long parameters(Gpt2Config c) {
        long embd = c.nEmbd();
        long perLayer = 4 * embd * embd + 4 * embd            // attention: c_attn (C × 3C) and c_proj, with biases
                + mlpParameters(c) / c.nLayer()                // the MLP
                + 4 * embd;                                    // ln_1 and ln_2
        return (long) c.vocabSize() * embd + (long) c.nPositions() * embd + c.nLayer() * perLayer + 2 * embd;
    }

    /** Parameters of the MLPs ({@code c_fc} and {@code c_proj} with biases), what MLP-only fine-tuning trains. */
    public static long mlpParameters(Gpt2Config c) {
        long embd = c.nEmbd();
        long inner = c.nInner();
        return c.nLayer() * (2 * embd * inner + inner + embd);
    }

    /** One optimizer step on micro-batches of {@code rows} windows of {@code context} tokens. */
    public static MemoryEstimate training(Gpt2Config c, boolean mlpOnly, long rows, long context) {
        long trained = mlpOnly ? mlpParameters(c) : parameters(c);
        return new MemoryEstimate(FLOAT * parameters(c), FLOAT * trained, 2 * FLOAT * trained,
                product(FLOAT, rows, context, perLayerActivations(c), c.nLayer()),
                product(FLOAT, 2, rows, c.nHead(), context, context, c.nLayer()),
                product(3, FLOAT, Gpt2Model.LOSS_CHUNK_ROWS, c.vocabSize()), product(2, Integer.BYTES, rows, context), 0);
    }

    /** A forward pass of {@code models} models of this shape, without gradients. */
    public static MemoryEstimate evaluation(Gpt2Config c, int models, long rows, long context) {
        return new MemoryEstimate(product(FLOAT, parameters(c), models), 0, 0,
                product(FLOAT, rows, context, perLayerActivations(c)), product(FLOAT, 2, rows, c.nHead(), context, context),
                product(2, FLOAT, Gpt2Model.LOSS_CHUNK_ROWS, c.vocabSize()), product(3, Integer.BYTES, rows, context), 0);
    }

    /**
     * One step of fitting routers over {@code members} frozen models of this shape (a routed model's forward pass
     * runs every member's blocks and backward reaches the routers through all of them, so autograd keeps every
     * member's activations): the members' weights, every member's activations and attention, a loss chunk and the
     * token arrays. The routers' own parameters, gradients and moments (layers × C × members floats) are negligible
     * beside these and left out.
     */
    public static MemoryEstimate routing(Gpt2Config c, int members, long rows, long context) {
        return new MemoryEstimate(product(FLOAT, parameters(c), members), 0, 0,
                product(FLOAT, rows, context, perLayerActivations(c), c.nLayer(), members),
                product(FLOAT, 2, rows, c.nHead(), context, context, c.nLayer(), members),
                product(3, FLOAT, Gpt2Model.LOSS_CHUNK_ROWS, c.vocabSize()), product(2, Integer.BYTES, rows, context), 0);
    }

    /**
     * CKA between every layer of {@code a} and of {@code b} (null: within {@code a}): both forward passes, and the
     * accumulators of {@code CkaAccumulator}, (D² + Σ d_r²) / 2 doubles for D = Σ d_r over the L·C-wide layers,
     * with {@code rowsPerProduct} buffered float rows of width D.
     */
    public static MemoryEstimate similarity(Gpt2Config a, Gpt2Config b, long rows, long context, long rowsPerProduct) {
        Gpt2Config wider = b != null && perLayerActivations(b) > perLayerActivations(a) ? b : a;
        long width = (long) a.nLayer() * a.nEmbd() + (b == null ? 0 : (long) b.nLayer() * b.nEmbd());
        long squares = (long) a.nLayer() * a.nEmbd() * a.nEmbd() + (b == null ? 0 : (long) b.nLayer() * b.nEmbd() * b.nEmbd());
        long accumulators = product(8, product(width, width) / 2 + squares / 2);
        return new MemoryEstimate(product(FLOAT, parameters(a) + (b == null ? 0 : parameters(b))), 0, 0,
                product(FLOAT, rows, context, perLayerActivations(wider)),
                product(FLOAT, 2, rows, Math.max(a.nHead(), b == null ? 0 : b.nHead()), context, context), 0,
                product(Integer.BYTES, rows, context),
                accumulators + product(FLOAT, rowsPerProduct, width));
    }

    private static long perLayerActivations(Gpt2Config c) {
        return 9L * c.nEmbd() + 2L * c.nInner();
    }

    /** The parts in bytes, as a problem or a job result shows them. */
    public Map<String, Long> parts() {
        Map<String, Long> parts = new LinkedHashMap<>();
        parts.put("weights", weights);
        parts.put("gradients", gradients);
        parts.put("optimizer", optimizer);
        parts.put("activations", activations);
        parts.put("attention", attention);
        parts.put("logits", logits);
        parts.put("token_arrays", hostArrays);
        parts.put("statistics", statistics);
        return parts;
    }
}
