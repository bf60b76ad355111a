package dev.consort.evaluation;

import java.util.List;
import java.util.UUID;

import com.fasterxml.jackson.annotation.JsonProperty;

import dev.consort.job.spec.InputRef;
import dev.consort.job.spec.JobSpec;
import io.swagger.v3.oas.annotations.media.Schema;
import jakarta.validation.Valid;
import jakarta.validation.constraints.Max;
import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotEmpty;
import jakarta.validation.constraints.Pattern;
import jakarta.validation.constraints.Size;

/**
 * Loss of every checkpoint on every dataset over the deterministic evaluation windows, and with
 * {@code metrics: ["loss", "exact_match"]} task accuracy on the datasets' records ({@link ExactMatch}).
 */
public record EvaluateSpec(
        @JsonProperty("checkpoint_ids") @NotEmpty @Size(max = 100) List<UUID> checkpointIds,
        @JsonProperty("dataset_ids") @NotEmpty @Size(max = 100) List<UUID> datasetIds,
        @Pattern(regexp = "train|validation", message = "must be 'train' or 'validation'") String split,
        @Min(2) @Max(65536) Integer context,
        @JsonProperty("max_windows") @Min(1) @Max(1_000_000) Integer maxWindows,
        @JsonProperty("batch_size") @Min(1) @Max(4096) Integer batchSize,
        @Schema(description = "What to measure: [\"loss\"] (default, also when empty) or [\"loss\", \"exact_match\"]")
        @Size(max = 2) List<@Pattern(regexp = "loss|exact_match", message = "must be loss or exact_match") String> metrics,
        @JsonProperty("exact_match") @Valid ExactMatchSpec exactMatch) implements JobSpec {

    @Override
    public List<InputRef> inputs() {
        return new InputRef.Collector()
                .addAll("checkpoint_ids", InputRef.Kind.CHECKPOINT, checkpointIds)
                .addAll("dataset_ids", InputRef.Kind.DATASET, datasetIds)
                .build();
    }
}
