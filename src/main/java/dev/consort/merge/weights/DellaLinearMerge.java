package dev.consort.merge.weights;

/**
 * Linear DELLA, mergekit's {@code della_linear} (generalized_task_arithmetic.py): DELLA's magnitude-ranked sampling
 * of each delta ({@link Sparsification#RANK_SAMPLED}), then the weighted sum of all deltas without sign election
 * ({@code normalize} default false, {@code rescale} default true, as in mergekit).
 */
final class DellaLinearMerge extends TaskVectorMerge {

    DellaLinearMerge() {
        super("della_linear", Sparsification.RANK_SAMPLED, false, false, true);
    }
}
