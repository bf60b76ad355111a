package dev.consort.merge.routing;

import java.util.List;

import ai.djl.ndarray.NDArray;

import dev.consort.engine.Gpt2Model;

/**
 * {@code activation_interpolation}: at every layer MLP(h) = α·MLP_A(h) + (1−α)·MLP_B(h), the same α for
 * every token. Nothing is learned; {@link AlphaSearch} picks α.
 */
final class ActivationInterpolation implements Mixture {

    private final Gpt2Model expertA;
    private final Gpt2Model expertB;
    private final float alpha;

    ActivationInterpolation(List<Gpt2Model> members, double alpha) {
        if (members.size() != 2) {
            throw new IllegalArgumentException("activation_interpolation mixes exactly two experts, not "
                    + members.size());
        }
        this.expertA = members.get(0);
        this.expertB = members.get(1);
        this.alpha = (float) alpha;
    }

    @Override
    public List<ExpertMlp> expertsAt(int layer) {
        return List.of(new ExpertMlp(0, layer, expertA), new ExpertMlp(1, layer, expertB));
    }

    @Override
    public List<Router> routers() {
        return List.of();
    }

    @Override
    public Gpt2Model.MlpOverride newPass() {
        return (layer, residual, normed) -> {
            // In memory PyTorch owns: DJL's Java-buffer operands may be freed while a graph still needs them.
            NDArray weights;
            try (NDArray values = normed.getManager().create(new float[] {alpha, 1 - alpha})) {
                weights = values.duplicate();                                                       // [2]
            }
            return Mixture.mix(expertsAt(layer), weights, normed);
        };
    }
}
