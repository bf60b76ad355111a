package dev.consort.merge.weights;

/**
 * Model Breadcrumbs (Davari and Belilovsky, arXiv 2312.06795): drop each delta's {@code gamma} fraction of
 * largest entries and enough of the smallest that {@code density} remain, then task arithmetic.
 */
final class BreadcrumbsMerge extends TaskVectorMerge {

    BreadcrumbsMerge() {
        super("breadcrumbs", Sparsification.MAGNITUDE_OUTLIERS, false, false, false);
    }
}
