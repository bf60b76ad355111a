package dev.consort.merge.weights;

/**
 * DARE with TIES sign election: Bernoulli({@code density}) masks with rescaling ({@code rescale}, default
 * true), then TIES' sign election and disjoint sum ({@code normalize} default false, as in mergekit).
 */
final class DareTiesMerge extends TaskVectorMerge {

    DareTiesMerge() {
        super("dare_ties", Sparsification.RANDOM, true, false, true);
    }
}
