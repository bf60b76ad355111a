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
 * Linear(H → E), both with biases. Parameters {@code <prefix>.mlp.fc.weight [H, C]}, {@code .fc.bias [H]},
 * {@code .proj.weight [E, H]}, {@code .proj.bias [E]}.
 */
final class MlpRouter implements Router {

    private final Map<String, NDArray> parameters = new LinkedHashMap<>();
    private final NDArray fcWeight;
    private final NDArray fcBias;
    private final NDArray projWeight;
    private final NDArray projBias;

    private MlpRouter(String prefix, NDArray fcWeight, NDArray fcBias, NDArray projWeight, NDArray projBias) {
        this.fcWeight = fcWeight;
        this.fcBias = fcBias;
        this.projWeight = projWeight;
        this.projBias = projBias;
        parameters.put(prefix + ".mlp.fc.weight", fcWeight);
        parameters.put(prefix + ".mlp.fc.bias", fcBias);
        parameters.put(prefix + ".mlp.proj.weight", projWeight);
        parameters.put(prefix + ".mlp.proj.bias", projBias);
    }

    /** PyTorch's nn.Linear default initialisation of both layers, from {@code random}. */
    static MlpRouter create(String prefix, int width, int hidden, int outputs, SplittableRandom random,
            NDManager manager) {
        return new MlpRouter(prefix,
                RouterKind.kaimingUniform(new Shape(hidden, width), width, random, manager),
                RouterKind.kaimingUniform(new Shape(hidden), width, random, manager),
                RouterKind.kaimingUniform(new Shape(outputs, hidden), hidden, random, manager),
                RouterKind.kaimingUniform(new Shape(outputs), hidden, random, manager));
    }

    @Override
    public NDArray logits(NDArray x) {
        NDArray hidden = Activation.gelu(Linear.linear(x, fcWeight, fcBias).singletonOrThrow());    // [..., H]
        return Linear.linear(hidden, projWeight, projBias).singletonOrThrow();                     // [..., E]
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
