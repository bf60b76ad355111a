package dev.consort.generation;

import java.util.List;
import java.util.UUID;
import java.util.function.Supplier;

import dev.consort.engine.Gpt2Model;

/**
 * What generates a request's text: a GPT-2 forward pass, with a routed model's mixture of its experts' MLPs in
 * each pass or with the model's own. Closing it gives back what it holds (leased models, routers), last first.
 *
 * @param id     the checkpoint or routed model asked for
 * @param shared the model whose embeddings, attention and layer norms run
 * @param passes a routed model's fresh MLP override per forward pass; null for the model's own MLPs
 */
record GeneratingModel(UUID id, Gpt2Model shared, Supplier<Gpt2Model.MlpOverride> passes, List<AutoCloseable> held)
        implements AutoCloseable {

    @Override
    public void close() {
        RuntimeException failure = null;
        for (int i = held.size() - 1; i >= 0; i--) {
            try {
                held.get(i).close();
            } catch (Exception e) {
                failure = failure == null ? new IllegalStateException("closing a generating model failed", e) : failure;
            }
        }
        if (failure != null) {
            throw failure;
        }
    }
}
