package dev.consort.cka;

import java.util.function.BiFunction;

import org.springframework.stereotype.Component;

import ai.djl.ndarray.NDArray;

/**
 * The test side of {@link CkaFeatureHook}: present in every test context, and the identity unless a
 * test sets {@link #transform} (a rotation, a scaling) for model B's features.
 */
@Component
public class TestCkaFeatureHook implements CkaFeatureHook {

    public static volatile BiFunction<Integer, NDArray, NDArray> transform;

    @Override
    public NDArray modelB(int layer, NDArray features) {
        BiFunction<Integer, NDArray, NDArray> current = transform;
        return current == null ? features : current.apply(layer, features);
    }
}
