package dev.consort.merge.weights;

/**
 * DELLA (Deep, Bhardwaj and Wang, arXiv 2406.11617), mergekit's {@code della} in
 * {@code merge_methods/generalized_task_arithmetic.py} with {@code sparsify.py}'s della_magprune: each delta thinned
 * by magnitude-ranked sampling ({@link Sparsification#RANK_SAMPLED}: per model {@code density}, {@code epsilon},
 * default 0.15; {@code rescale} to the L1 norm, default true), then TIES' sign election and disjoint mean
 * ({@code normalize}, default true). The sampling draws from the tensor's seeded source: the job's seed fixes it.
 */
final class DellaMerge extends TaskVectorMerge {

    DellaMerge() {
        super("della", Sparsification.RANK_SAMPLED, true, true, true);
    }
}
