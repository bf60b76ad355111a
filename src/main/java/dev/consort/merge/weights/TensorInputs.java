package dev.consort.merge.weights;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.SplittableRandom;
import java.util.random.RandomGenerator.SplittableGenerator;

/**
 * One tensor to merge: its bare HF name ({@code h.3.mlp.c_fc.weight}), its shape, its layer index (-1 for the
 * embeddings and the final layer norm), the models' values in row-major order, the base model's values
 * (null when the method uses no base), the method's parameters resolved for this tensor, and a random
 * source seeded for this tensor alone (splittable, so that work done in parallel can draw in a fixed way).
 *
 * <p>The arrays are handed over: a method may overwrite them (task-vector methods turn the experts'
 * values into deltas in place, so that merging holds about one array per model and no more) and may
 * return one of them as the result.
 */
public record TensorInputs(String name, long[] shape, int layer, List<float[]> experts, float[] base,
        TensorParameters parameters, SplittableGenerator random) {

    public TensorInputs {
        shape = shape.clone();
        experts = List.copyOf(experts);
        for (float[] expert : experts) {
            if (expert.length != experts.get(0).length || base != null && expert.length != base.length) {
                throw new IllegalArgumentException(name + ": the models' tensors differ in size");
            }
        }
        if (parameters.models().size() != experts.size()) {
            throw new IllegalArgumentException(name + ": " + parameters.models().size()
                    + " models' parameters for " + experts.size() + " models");
        }
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    /** Elements of the tensor. */
    public int size() {
        return experts.get(0).length;
    }

    /**
     * The random source for the tensor {@code name} of a merge seeded {@code seed}: it depends on the seed
     * and the name only, so a tensor's draws do not depend on which tensors were merged before it.
     */
    public static SplittableGenerator random(long seed, String name) {
        // FNV-1a over the name's UTF-8 bytes, then SplittableRandom's own mixing of the combined seed.
        long hash = 0xcbf29ce484222325L;
        for (byte b : name.getBytes(StandardCharsets.UTF_8)) {
            hash = (hash ^ (b & 0xff)) * 0x100000001b3L;
        }
        return new SplittableRandom(new SplittableRandom(seed).nextLong() ^ hash);
    }
}
