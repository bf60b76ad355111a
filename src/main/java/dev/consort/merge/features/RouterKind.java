package dev.consort.merge.features;

import java.util.SplittableRandom;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;

/** The shapes a router can take, by their wire names. */
public enum RouterKind {

    /** One bias-free linear map from the hidden state to a logit per expert ({@link LinearRouter}). */
    LINEAR("linear"),
    /** Linear, GELU, linear, without biases; hidden width n_embd ({@link MlpRouter}). */
    MLP("mlp");

    private final String wireName;

    RouterKind(String wireName) {
        this.wireName = wireName;
    }

    public String wireName() {
        return wireName;
    }

    public static RouterKind fromWireName(String name) {
        for (RouterKind kind : values()) {
            if (kind.wireName.equals(name)) {
                return kind;
            }
        }
        throw new IllegalArgumentException("unknown router kind \"" + name + "\": expected linear or mlp");
    }

    /**
     * A freshly initialised router named {@code prefix} (e.g. {@code router.layer.3}) from {@code width}
     * features to {@code outputs} logits, its parameters in {@code manager}.
     */
    Router create(String prefix, int width, int outputs, SplittableRandom random, NDManager manager) {
        return switch (this) {
            case LINEAR -> LinearRouter.create(prefix, width, outputs, random, manager);
            case MLP -> MlpRouter.create(prefix, width, width, outputs, random, manager);
        };
    }

    /**
     * The paper's router initialisation, {@code nn.init.kaiming_uniform_(w)} with its default a = 0 (its
     * {@code architecture/router.py}; the {@code * 0.1} there discards its result): gain √2, so
     * U(−√(6/fanIn), √(6/fanIn)), 2.45× wider than nn.Linear's default. Drawn from a Java generator so the
     * values are the same on every device, in memory PyTorch owns.
     */
    static NDArray kaimingUniform(Shape shape, int fanIn, SplittableRandom random, NDManager manager) {
        double bound = Math.sqrt(6.0 / fanIn);
        float[] values = new float[Math.toIntExact(shape.size())];
        for (int i = 0; i < values.length; i++) {
            values[i] = (float) ((2 * random.nextDouble() - 1) * bound);
        }
        // create() wraps a Java buffer that may be freed under the array; duplicate() copies it into PyTorch.
        try (NDArray view = manager.create(values, shape)) {
            return view.duplicate();
        }
    }
}
