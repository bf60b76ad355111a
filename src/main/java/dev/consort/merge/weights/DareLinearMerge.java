package dev.consort.merge.weights;

/**
 * DARE (Yu et al., arXiv 2311.03099) without sign election: each delta entry kept with probability {@code
 * density} (seeded), the kept ones divided by {@code density} ({@code rescale}, default true), then task
 * arithmetic.
 */
final class DareLinearMerge extends TaskVectorMerge {

    DareLinearMerge() {
        super("dare_linear", Sparsification.RANDOM, false, false, true);
    }
}
