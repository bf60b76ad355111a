package dev.consort.cka;

import ai.djl.ndarray.NDArray;

/**
 * A transformation applied to model B's pooled features before CKA, [rows, C] → [rows, C']. Only tests
 * provide one (an orthogonal rotation, an isotropic scaling) to check that CKA is invariant to them;
 * without a bean the features are used as they are.
 */
@FunctionalInterface
public interface CkaFeatureHook {

    NDArray modelB(int layer, NDArray features);
}
