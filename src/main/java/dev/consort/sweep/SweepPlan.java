package dev.consort.sweep;

import java.util.List;
import java.util.UUID;

import com.fasterxml.jackson.annotation.JsonProperty;

import dev.consort.cka.CkaEstimator;
import dev.consort.evaluation.EvaluationPlan;
import dev.consort.merge.MergePlan;

/**
 * A sweep as its handler validated it: the steps to score (step 0 the common base as both experts, when the
 * runs have one), the merge to make at each, the windows, and the CKA settings, every default resolved.
 *
 * @param base the runs' common base checkpoint, or null when their checkpoints name none (no step 0)
 */
public record SweepPlan(
        List<Step> steps,
        @JsonProperty("base_checkpoint_id") UUID base,
        @JsonProperty("adaptation_dataset_id") UUID adaptationDatasetId,
        @JsonProperty("reference_dataset_id") UUID referenceDatasetId,
        MergePlan.Method method,
        EvaluationPlan evaluation,
        Cka cka,
        long seed) {

    /** One point of the sweep: the two runs' checkpoints saved at {@code step}. */
    public record Step(long step, @JsonProperty("checkpoint_a_id") UUID a, @JsonProperty("checkpoint_b_id") UUID b) {}

    /** The resolved CKA settings: one layer, or the mean over layers. */
    public record Cka(boolean residual, boolean mean, CkaEstimator estimator, int windows, int layer,
            @JsonProperty("mean_over_layers") boolean meanOverLayers) {}
}
