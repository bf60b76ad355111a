package dev.consort.evaluation;

import java.util.List;
import java.util.UUID;

import com.fasterxml.jackson.annotation.JsonProperty;

import dev.consort.job.spec.InputRef;
import dev.consort.job.spec.JobSpec;
import jakarta.validation.constraints.Max;
import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotEmpty;
import jakarta.validation.constraints.Pattern;
import jakarta.validation.constraints.Size;

/** Loss of every checkpoint on every dataset over the deterministic evaluation windows. */
public record EvaluateSpec(
        @JsonProperty("checkpoint_ids") @NotEmpty @Size(max = 100) List<UUID> checkpointIds,
        @JsonProperty("dataset_ids") @NotEmpty @Size(max = 100) List<UUID> datasetIds,
        @Pattern(regexp = "train|validation", message = "must be 'train' or 'validation'") String split,
        @Min(2) @Max(65536) Integer context,
        @JsonProperty("max_windows") @Min(1) @Max(1_000_000) Integer maxWindows,
        @JsonProperty("batch_size") @Min(1) @Max(4096) Integer batchSize) implements JobSpec {

    @Override
    public List<InputRef> inputs() {
        return new InputRef.Collector()
                .addAll("checkpoint_ids", InputRef.Kind.CHECKPOINT, checkpointIds)
                .addAll("dataset_ids", InputRef.Kind.DATASET, datasetIds)
                .build();
    }
}
