package dev.consort.job.spec;

import java.util.List;
import java.util.UUID;

import com.fasterxml.jackson.annotation.JsonProperty;

import jakarta.validation.constraints.Max;
import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotNull;
import jakarta.validation.constraints.Pattern;

/** Layer-by-layer CKA within and between two models (or within one) on a dataset sample. */
public record CkaSpec(
        @JsonProperty("model_a_id") @NotNull UUID modelAId,
        @JsonProperty("model_b_id") UUID modelBId,
        @JsonProperty("dataset_id") @NotNull UUID datasetId,
        @Pattern(regexp = "mlp|residual", message = "must be 'mlp' or 'residual'") String representation,
        @Pattern(regexp = "token|mean", message = "must be 'token' or 'mean'") String pooling,
        @Pattern(regexp = "linear|debiased", message = "must be 'linear' or 'debiased'") String estimator,
        @Min(2) @Max(65536) Integer context,
        @Min(1) @Max(1_000_000) Integer windows) implements JobSpec {

    @Override
    public List<InputRef> inputs() {
        return new InputRef.Collector()
                .add("model_a_id", InputRef.Kind.CHECKPOINT, modelAId)
                .add("model_b_id", InputRef.Kind.CHECKPOINT, modelBId)
                .add("dataset_id", InputRef.Kind.DATASET, datasetId)
                .build();
    }
}
