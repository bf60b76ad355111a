package dev.consort.engine;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;

/**
 * The keys and values every layer's attention computed for the positions a model has already read, so that
 * generating the next token runs the forward pass over one new position instead of the whole sequence
 * ({@link Gpt2Model#forwardCached}). Inference only; one sequence batch per
 * cache. The arrays belong to a manager of the cache's own, freed by {@link #close()}.
 */
public final class KvCache implements AutoCloseable {

    private final NDManager manager;
    private final NDArray[] keys;                                                                   // [B, H, P, hs]
    private final NDArray[] values;                                                                 // [B, H, P, hs]
    private int length;

    public KvCache(Gpt2Model model) {
        this.manager = model.manager().newSubManager();
        this.keys = new NDArray[model.config().nLayer()];
        this.values = new NDArray[model.config().nLayer()];
    }

    /** Positions already read: the next token's position. */
    public int length() {
        return length;
    }

    /**
     * Appends one layer's keys and values of the new positions to those cached, and returns all of them.
     *
     * @param key   the new positions' keys {@code [B, H, T, hs]}
     * @param value the new positions' values {@code [B, H, T, hs]}
     * @return keys and values of every position so far, {@code [B, H, P + T, hs]} each, owned by the cache
     */
    NDArray[] extend(int layer, NDArray key, NDArray value) {
        keys[layer] = append(keys[layer], key);
        values[layer] = append(values[layer], value);
        return new NDArray[] {keys[layer], values[layer]};
    }

    private NDArray append(NDArray cached, NDArray added) {
        NDArray all = cached == null ? added.duplicate() : cached.concat(added, 2);
        all.attach(manager);
        if (cached != null) {
            cached.close();
        }
        return all;
    }

    /** Records that a forward pass read {@code positions} more positions (after every layer extended its cache). */
    void advance(int positions) {
        length += positions;
    }

    @Override
    public void close() {
        manager.close();
    }
}
