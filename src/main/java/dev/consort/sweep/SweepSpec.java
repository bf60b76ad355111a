package dev.consort.sweep;

import java.util.List;
import java.util.Map;
import java.util.UUID;

import com.fasterxml.jackson.annotation.JsonProperty;

import dev.consort.job.spec.InputRef;
import dev.consort.job.spec.JobSpec;
import dev.consort.merge.MergeSpec;
import io.swagger.v3.oas.annotations.media.Schema;
import jakarta.validation.Valid;
import jakarta.validation.constraints.Max;
import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotNull;
import jakarta.validation.constraints.Pattern;

/**
 * Merge loss, each expert's own loss, the merge's gain over the better expert and CKA along two fine-tuning
 * runs' shared checkpoint steps, starting from their common base (step 0), to find the step after which
 * merging stops paying (the paper's Figure 3). CKA defaults follow the paper's code
 * ({@code compute_kernel.py}): the residual stream after block n_layer / 2, averaged over each window.
 */
public record SweepSpec(
        @JsonProperty("finetune_job_a_id") @NotNull UUID finetuneJobAId,
        @JsonProperty("finetune_job_b_id") @NotNull UUID finetuneJobBId,
        @JsonProperty("adaptation_dataset_id") @NotNull UUID adaptationDatasetId,
        @JsonProperty("reference_dataset_id") @NotNull UUID referenceDatasetId,
        @Schema(description = "The layer whose same-layer CKA is reported (default n_layer / 2, as the paper's figure "
                + "uses layer 6 of 12); see cka.mean_over_layers")
        @Min(0) Integer layer,
        @Schema(description = "The merge along the steps: activation_interpolation (default; α searched on a grid) or "
                + "a weight-space method (linear, slerp, task_arithmetic, ties, ...)")
        String method,
        @Schema(description = "The method's parameters: alphas (the α grid) for activation_interpolation; t, weight, "
                + "density, lambda, ... for weight-space methods, as in a merge job")
        Map<String, Object> parameters,
        @JsonProperty("model_parameters") @Schema(description = "Per-expert parameters of weight-space methods, A then B")
        List<Map<String, Object>> modelParameters,
        @Schema(description = "The windows every step is scored on (default: 64 windows of up to 256 tokens)")
        @Valid MergeSpec.Evaluation evaluation,
        @Valid Cka cka,
        Long seed) implements JobSpec {

    /** How the specialists' similarity is measured at each step; the defaults are the paper's. */
    public record Cka(
            @Pattern(regexp = "mlp|residual", message = "must be 'mlp' or 'residual'") String representation,
            @Pattern(regexp = "token|mean", message = "must be 'token' or 'mean'") String pooling,
            @Pattern(regexp = "linear|debiased", message = "must be 'linear' or 'debiased'") String estimator,
            @Schema(description = "Windows sampled from each dataset (default 64)") @Min(1) @Max(1_000_000) Integer windows,
            @JsonProperty("mean_over_layers") @Schema(description = "Report the mean of same-layer CKA over every layer "
                    + "instead of one layer") Boolean meanOverLayers) {}

    @Override
    public List<InputRef> inputs() {
        return new InputRef.Collector()
                .add("finetune_job_a_id", InputRef.Kind.JOB, finetuneJobAId)
                .add("finetune_job_b_id", InputRef.Kind.JOB, finetuneJobBId)
                .add("adaptation_dataset_id", InputRef.Kind.DATASET, adaptationDatasetId)
                .add("reference_dataset_id", InputRef.Kind.DATASET, referenceDatasetId)
                .build();
    }
}
