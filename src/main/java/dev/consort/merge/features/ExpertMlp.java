package dev.consort.merge.features;

import ai.djl.ndarray.NDArray;
import dev.consort.engine.Gpt2Model;

/**
 * One expert of a routed layer: the MLP of block {@code layer} of member {@code member} (the index in
 * {@link RoutedModel#members()}: the experts in order, then the base when it is included).
 */
public record ExpertMlp(int member, int layer, Gpt2Model model) {

    /** The MLP on {@code normed = ln_2(h)}, {@code [B, T, C]}. */
    public NDArray apply(NDArray normed) {
        return model.mlp(layer, normed);
    }
}
