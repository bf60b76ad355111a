package dev.consort.merge.features;

import java.util.SplittableRandom;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;

/** The shapes a router can take, by their wire names. */
public enum RouterKind {

    /** One bias-free linear map from the hidden state to a logit per expert ({@link LinearRouter}). */
    LINEAR("linear"),
    /** Linear, GELU, linear, with biases; hidden width n_embd ({@link MlpRouter}). */
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
     * PyTorch's default {@code nn.Linear} initialisation of a tensor: U(−1/√fanIn, 1/√fanIn) (kaiming_uniform
     * with a = √5 for the weight, the same bound for the bias), drawn from a Java generator so the values are
     * the same on every device, in memory PyTorch owns.
     */
    static NDArray kaimingUniform(Shape shape, int fanIn, SplittableRandom random, NDManager manager) {
        double bound = 1 / Math.sqrt(fanIn);
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
