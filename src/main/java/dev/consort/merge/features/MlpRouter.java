package dev.consort.merge.features;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.core.Linear;

/**
 * {@code logits = proj(GELU(fc(x)))}: Linear(C → H), exact (erf) GELU as PyTorch's {@code nn.GELU()},
 * Linear(H → E), both without biases, as the paper's code builds its router ({@code architecture/router.py}:
 * {@code nn.Linear(..., bias=False)} with GELU between). Parameters {@code <prefix>.mlp.fc.weight [H, C]} and
 * {@code <prefix>.mlp.proj.weight [E, H]}.
 */
final class MlpRouter implements Router {

    private final Map<String, NDArray> parameters = new LinkedHashMap<>();
    private final NDArray fcWeight;
    private final NDArray projWeight;

    private MlpRouter(String prefix, NDArray fcWeight, NDArray projWeight) {
        this.fcWeight = fcWeight;
        this.projWeight = projWeight;
        parameters.put(prefix + ".mlp.fc.weight", fcWeight);
        parameters.put(prefix + ".mlp.proj.weight", projWeight);
    }

    /** Both weights Kaiming-uniform, as {@link RouterKind#kaimingUniform} draws them, from {@code random}. */
    static MlpRouter create(String prefix, int width, int hidden, int outputs, SplittableRandom random,
            NDManager manager) {
        return new MlpRouter(prefix,
                RouterKind.kaimingUniform(new Shape(hidden, width), width, random, manager),
                RouterKind.kaimingUniform(new Shape(outputs, hidden), hidden, random, manager));
    }

    @Override
    public NDArray logits(NDArray x) {
        NDArray hidden = Activation.gelu(Linear.linear(x, fcWeight).singletonOrThrow());           // [..., H]
        return Linear.linear(hidden, projWeight).singletonOrThrow();                               // [..., E]
    }

    @Override
    public int outputs() {
        return Math.toIntExact(projWeight.getShape().get(0));
    }

    @Override
    public Map<String, NDArray> parameters() {
        return Collections.unmodifiableMap(parameters);
    }
}
