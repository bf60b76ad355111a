package dev.consort.merge.weights;

/**
 * Model Breadcrumbs sparsification followed by TIES sign election and disjoint sum ({@code normalize} default
 * false, as in mergekit).
 */
final class BreadcrumbsTiesMerge extends TaskVectorMerge {

    BreadcrumbsTiesMerge() {
        super("breadcrumbs_ties", Sparsification.MAGNITUDE_OUTLIERS, true, false, false);
    }
}
