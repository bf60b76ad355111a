package dev.consort.merge.routing;

import java.util.List;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

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
            // Constants PyTorch owns (DJL's op(Number) buffers may be freed while the graph still needs them).
            NDManager scope = normed.getManager();
            NDArray weightA = scope.full(new Shape(), alpha, DataType.FLOAT32);
            NDArray weightB = scope.full(new Shape(), 1 - alpha, DataType.FLOAT32);
            return expertA.mlp(layer, normed).mul(weightA).add(expertB.mlp(layer, normed).mul(weightB));
        };
    }
}
