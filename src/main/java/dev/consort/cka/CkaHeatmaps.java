package dev.consort.cka;

import java.util.List;

import dev.consort.plot.Heatmap;

/** The heatmaps of a cka job's matrices: A alone, or intra A, intra B and inter A × B side by side. */
final class CkaHeatmaps {

    private CkaHeatmaps() {}

    /** One model's layers against themselves. */
    static Heatmap forModel(String model, String dataset, CkaEstimator estimator, CkaMatrix intraA) {
        return new Heatmap("CKA (" + estimator.specName() + ") of " + model + " on " + dataset,
                List.of(new Heatmap.Panel("A × A", intraA.toArray(), "A layer", "A layer")), "CKA");
    }

    /** Two models: intra A, intra B and inter A × B (rows A's layers, columns B's). */
    static Heatmap forModelPair(String modelA, String modelB, String dataset, CkaEstimator estimator,
            CkaMatrix intraA, CkaMatrix intraB, CkaMatrix interAB) {
        return new Heatmap("CKA (" + estimator.specName() + ") of " + modelA + " (A) and " + modelB + " (B) on "
                + dataset, List.of(
                new Heatmap.Panel("A × A", intraA.toArray(), "A layer", "A layer"),
                new Heatmap.Panel("B × B", intraB.toArray(), "B layer", "B layer"),
                new Heatmap.Panel("A × B", interAB.toArray(), "A layer", "B layer")), "CKA");
    }
}
