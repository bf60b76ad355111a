package dev.consort.support;

import java.util.Arrays;
import java.util.function.Function;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import dev.consort.engine.Gpt2Model;
import dev.consort.engine.TokenSampler;

/**
 * Greedy decoding the slow, obvious way, to check generation with a KV cache against: for every new token, a forward
 * pass over the whole sequence so far, then the argmax of the last position's logits.
 */
public final class FullForwardGreedy {

    private FullForwardGreedy() {}

    /** {@code length} tokens after {@code prompt} by {@code model}'s own forward pass. */
    public static int[] continuation(Gpt2Model model, int[] prompt, int length) {
        return continuation(model, model::forward, prompt, length);
    }

    /**
     * @param logits  the model whose tied output layer turns hidden states into logits
     * @param forward the hidden states after ln_f of a {@code [1, T]} sequence (a routed model's forward pass, say)
     */
    public static int[] continuation(Gpt2Model logits, Function<NDArray, NDArray> forward, int[] prompt, int length) {
        int[] sequence = prompt;
        for (int i = 0; i < length; i++) {
            try (NDManager scope = logits.manager().newSubManager()) {
                NDArray hidden = forward.apply(scope.create(sequence, new Shape(1, sequence.length)));
                int next = TokenSampler.argmax(logits.logits(hidden.get(new NDIndex(":, -1, :"))).toFloatArray());
                sequence = Arrays.copyOf(sequence, sequence.length + 1);
                sequence[sequence.length - 1] = next;
            }
        }
        return Arrays.copyOfRange(sequence, prompt.length, sequence.length);
    }
}
