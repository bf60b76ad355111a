package dev.consort.cka;

import java.util.List;
import java.util.UUID;

import com.fasterxml.jackson.annotation.JsonProperty;

import dev.consort.job.spec.InputRef;
import dev.consort.job.spec.JobSpec;
import io.swagger.v3.oas.annotations.media.Schema;
import jakarta.validation.constraints.Max;
import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotNull;
import jakarta.validation.constraints.Pattern;

/**
 * Layer-by-layer CKA within and between two models (or within one) on a deterministic sample of a
 * dataset: the first {@code windows} windows of {@code context} tokens. Representations are each layer's
 * MLP output ({@code mlp}, default) or the residual stream after the block ({@code residual}); rows are
 * tokens ({@code token}, default) or per-window means ({@code mean}).
 */
public record CkaSpec(
        @JsonProperty("model_a_id") @NotNull UUID modelAId,
        @JsonProperty("model_b_id") UUID modelBId,
        @JsonProperty("dataset_id") @NotNull UUID datasetId,
        @Pattern(regexp = "mlp|residual", message = "must be 'mlp' or 'residual'") String representation,
        @Pattern(regexp = "token|mean", message = "must be 'token' or 'mean'") String pooling,
        @Pattern(regexp = "linear|debiased", message = "must be 'linear' or 'debiased'") String estimator,
        @Pattern(regexp = "train|validation", message = "must be 'train' or 'validation'") String split,
        @Min(2) @Max(65536) Integer context,
        @Schema(description = "How many sequential windows of the split to sample (default 64)")
        @Min(1) @Max(1_000_000) Integer windows,
        @JsonProperty("batch_size") @Schema(description = "Windows per forward pass; the result does not depend on it")
        @Min(1) @Max(4096) Integer batchSize) implements JobSpec {

    @Override
    public List<InputRef> inputs() {
        return new InputRef.Collector()
                .add("model_a_id", InputRef.Kind.CHECKPOINT, modelAId)
                .add("model_b_id", InputRef.Kind.CHECKPOINT, modelBId)
                .add("dataset_id", InputRef.Kind.DATASET, datasetId)
                .build();
    }
}
