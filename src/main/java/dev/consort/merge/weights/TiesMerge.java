package dev.consort.merge.weights;

/**
 * TIES (Yadav et al., arXiv 2306.01708): keep each delta's ⌊density·n⌋ largest entries, elect each entry's
 * sign by Σ wᵢδᵢ, sum the agreeing weighted deltas, divide by their weights ({@code normalize}, default true),
 * × λ, + base.
 */
final class TiesMerge extends TaskVectorMerge {

    TiesMerge() {
        super("ties", Sparsification.MAGNITUDE, true, true, false);
    }
}
