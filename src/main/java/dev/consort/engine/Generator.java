package dev.consort.engine;

import java.util.Arrays;
import java.util.function.Supplier;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;

/**
 * Autoregressive decoding of one sequence with a {@link KvCache}: the prompt is read in one forward pass, then
 * each new token costs one position's pass. The next token comes from the last position's logits through a
 * {@link TokenSampler} (the argmax at temperature 0).
 */
public final class Generator {

    /** Why a sequence ended. */
    public enum Finish {
        /** {@code maxTokens} were generated. */
        LENGTH,
        /** The sink asked to stop (a stop string appeared). */
        STOP,
        /** The model generated the end-of-text token, which is not part of the output. */
        EOS
    }

    /** Receives each generated token as it is made; answers false to stop after it. */
    @FunctionalInterface
    public interface TokenSink {
        boolean accept(int token);
    }

    /** The generated tokens (without an end-of-text token), why generation ended, and how long it took. */
    public record Generated(int[] tokens, Finish finish, long nanos) {}

    private Generator() {}

    /**
     * @param passes     a fresh MLP override for each forward pass (a routed model's, which may keep state within a
     *                   pass); null for the model's own MLPs
     * @param prompt     at least one token; prompt length plus {@code maxTokens} at most n_positions
     * @param vocabulary only ids below it are generated (a tokenizer's size, where the model's rows are padded)
     * @param eosToken   the end-of-text token, or -1 for none
     */
    public static Generated generate(Gpt2Model model, Supplier<Gpt2Model.MlpOverride> passes, int[] prompt, int maxTokens,
            TokenSampler sampler, int vocabulary, int eosToken, TokenSink sink) {
        if (prompt.length < 1 || prompt.length + maxTokens > model.config().nPositions()) {
            throw new IllegalArgumentException("a prompt of " + prompt.length + " tokens and " + maxTokens
                    + " new ones do not fit n_positions " + model.config().nPositions());
        }
        long started = System.nanoTime();
        int[] generated = new int[maxTokens];
        int count = 0;
        Finish finish = Finish.LENGTH;
        try (KvCache cache = new KvCache(model); NDManager scope = model.manager().newSubManager()) {
            int[] input = prompt;
            while (count < maxTokens) {
                int next;
                try (NDManager step = scope.newSubManager()) {
                    NDArray ids = step.create(input, new Shape(1, input.length));                   // [1, T]
                    NDArray hidden = model.forwardCached(ids, passes == null ? null : passes.get(), cache); // [1, T, C]
                    NDArray last = hidden.get(new NDIndex(":, -1, :"));                             // [1, C]
                    float[] logits = Gpt2Model.hostFloats(model.logits(last));                     // [1, V]
                    next = sampler.next(logits.length > vocabulary ? Arrays.copyOf(logits, vocabulary) : logits);
                }
                if (next == eosToken) {
                    finish = Finish.EOS;
                    break;
                }
                generated[count++] = next;
                if (!sink.accept(next)) {
                    finish = Finish.STOP;
                    break;
                }
                input = new int[] {next};
            }
        }
        return new Generated(Arrays.copyOf(generated, count), finish, System.nanoTime() - started);
    }
}
