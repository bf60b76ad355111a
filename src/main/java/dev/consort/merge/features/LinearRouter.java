package dev.consort.merge.features;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.core.Linear;

/** {@code logits = x·Wᵀ}: one bias-free linear map, W {@code [E, C]} named {@code <prefix>.linear.weight}. */
final class LinearRouter implements Router {

    private final Map<String, NDArray> parameters = new LinkedHashMap<>();
    private final NDArray weight;

    private LinearRouter(String prefix, NDArray weight) {
        this.weight = weight;
        parameters.put(prefix + ".linear.weight", weight);
    }

    /** Kaiming-uniform as the paper's code draws it ({@link RouterKind#kaimingUniform}), from {@code random}. */
    static LinearRouter create(String prefix, int width, int outputs, SplittableRandom random, NDManager manager) {
        return new LinearRouter(prefix, RouterKind.kaimingUniform(new Shape(outputs, width), width, random, manager));
    }

    @Override
    public NDArray logits(NDArray x) {
        return Linear.linear(x, weight).singletonOrThrow();                                        // [..., E]
    }

    @Override
    public int outputs() {
        return Math.toIntExact(weight.getShape().get(0));
    }

    @Override
    public Map<String, NDArray> parameters() {
        return Collections.unmodifiableMap(parameters);
    }
}
