package dev.consort.engine;

import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Function;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;

/**
 * AdamW (Loshchilov and Hutter; the update of PyTorch's {@code torch.optim.AdamW}, ε = 1e-8) on the
 * parameters of a {@link Gpt2Model} (or any named arrays), with first and second moments kept per
 * parameter name.
 *
 * <p>Weight decay follows GPT-2 / nanoGPT: decoupled decay (θ ← θ − lr·λ·θ) on every tensor of two or
 * more dimensions, that is the Conv1D weights and the embeddings {@code wte} and {@code wpe}; none on
 * biases and layer-norm weights.
 *
 * <p>The moments live in a sub-manager of the model's (or owner's) manager, freed by {@link #close()}.
 * Updates run in place on the parameters, with PyTorch's grad mode off.
 */
public final class AdamW implements AutoCloseable {

    public static final double EPSILON = 1e-8;

    private final Function<String, NDArray> parameters;
    private final double beta1;
    private final double beta2;
    private final double weightDecay;
    private final NDManager manager;
    private final Map<String, NDArray> firstMoments = new LinkedHashMap<>();
    private final Map<String, NDArray> secondMoments = new LinkedHashMap<>();

    /** An optimizer for the parameters {@code names} of {@code model}, moments starting at zero. */
    public AdamW(Gpt2Model model, Collection<String> names, double beta1, double beta2, double weightDecay) {
        this(model::parameter, names, model.manager(), beta1, beta2, weightDecay);
    }

    /**
     * An optimizer for parameters that are not a model's (e.g. routers), moments starting at zero.
     *
     * @param parameters the live parameter of each name, looked up at every step (so replaced arrays are seen)
     * @param owner      the manager whose sub-manager holds the moments
     */
    public AdamW(Function<String, NDArray> parameters, Collection<String> names, NDManager owner, double beta1,
            double beta2, double weightDecay) {
        this.parameters = parameters;
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.weightDecay = weightDecay;
        this.manager = owner.newSubManager();
        for (String name : names) {
            NDArray parameter = parameters.apply(name);
            firstMoments.put(name, manager.zeros(parameter.getShape()));
            secondMoments.put(name, manager.zeros(parameter.getShape()));
        }
    }

    /** Whether a parameter is decayed: tensors of two or more dimensions are, vectors are not. */
    public static boolean decays(NDArray parameter) {
        return parameter.getShape().dimension() >= 2;
    }

    /**
     * Applies update number {@code t} (1-based; it sets the bias corrections) to every parameter this
     * optimizer holds, using {@code gradients} by name (already clipped).
     */
    public void step(Map<String, NDArray> gradients, double learningRate, int t) {
        double firstCorrection = 1 - Math.pow(beta1, t);
        double secondCorrection = 1 - Math.pow(beta2, t);
        for (Map.Entry<String, NDArray> entry : firstMoments.entrySet()) {
            String name = entry.getKey();
            NDArray gradient = gradients.get(name);
            NDArray parameter = parameters.apply(name);
            NDArray m = entry.getValue();
            NDArray v = secondMoments.get(name);
            // The op(Number) overloads below wrap numbers in Java buffers freed right after each op: safe
            // here because nothing records a graph (grad mode is off), unlike in the model's forward pass.
            try (NDManager scope = gradient.getManager().newSubManager()) {
                // An op's result belongs to its first operand's manager: lend the persistent arrays to
                // the scope so that the temporaries below are freed with it.
                scope.tempAttachAll(parameter, m, v);
                if (weightDecay > 0 && decays(parameter)) {
                    parameter.muli(1 - learningRate * weightDecay);
                }
                m.muli(beta1).addi(gradient.mul(1 - beta1));
                v.muli(beta2).addi(gradient.square().muli(1 - beta2));
                NDArray denominator = v.sqrt().divi(Math.sqrt(secondCorrection)).addi(EPSILON);
                parameter.subi(m.div(denominator).muli(learningRate / firstCorrection));
            }
        }
    }

    /** First moments by parameter name (live arrays, for saving training state). */
    Map<String, NDArray> firstMoments() {
        return Collections.unmodifiableMap(firstMoments);
    }

    /** Second moments by parameter name (live arrays, for saving training state). */
    Map<String, NDArray> secondMoments() {
        return Collections.unmodifiableMap(secondMoments);
    }

    /** Replaces a parameter's moments with restored values (arrays of any manager; they are re-attached). */
    void restore(String name, NDArray first, NDArray second) {
        NDArray oldFirst = firstMoments.get(name);
        NDArray oldSecond = secondMoments.get(name);
        if (oldFirst == null) {
            throw new IllegalArgumentException("the optimizer does not train " + name);
        }
        if (!oldFirst.getShape().equals(first.getShape()) || !oldSecond.getShape().equals(second.getShape())) {
            throw new IllegalArgumentException("moments of " + name + " must be " + oldFirst.getShape());
        }
        first.attach(manager);
        second.attach(manager);
        firstMoments.put(name, first);
        secondMoments.put(name, second);
        oldFirst.close();
        oldSecond.close();
    }

    @Override
    public void close() {
        manager.close();
    }

    /**
     * Global-norm clipping, as {@code torch.nn.utils.clip_grad_norm_}: when the norm of all gradients
     * together exceeds {@code maxNorm}, every gradient is scaled by maxNorm / (norm + 1e-6). 0 = off.
     */
    public static void clipGlobalNorm(Collection<NDArray> gradients, double maxNorm) {
        if (maxNorm <= 0 || gradients.isEmpty()) {
            return;
        }
        NDArray squaredNorm = null;
        for (NDArray gradient : gradients) {
            NDArray squares = gradient.square().sum();
            squaredNorm = squaredNorm == null ? squares : squaredNorm.add(squares);
        }
        double norm = Math.sqrt(squaredNorm.getFloat());
        if (norm > maxNorm) {
            double scale = maxNorm / (norm + 1e-6);
            gradients.forEach(gradient -> gradient.muli(scale));
        }
    }
}
