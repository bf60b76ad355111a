package dev.consort.job.spec;

import java.util.List;
import java.util.Map;
import java.util.UUID;

import com.fasterxml.jackson.annotation.JsonProperty;

import jakarta.validation.constraints.NotBlank;
import jakarta.validation.constraints.NotEmpty;
import jakarta.validation.constraints.Size;

/**
 * Merge experts into one model with a weight-space or feature-space method, then evaluate it.
 * {@code parameters} are the method's own (t, density, span, ...).
 */
public record MergeSpec(
        @NotBlank String method,
        @JsonProperty("base_checkpoint_id") UUID baseCheckpointId,
        @JsonProperty("expert_ids") @NotEmpty @Size(max = 32) List<UUID> expertIds,
        Map<String, Object> parameters,
        @JsonProperty("adaptation_dataset_id") UUID adaptationDatasetId,
        @JsonProperty("eval_dataset_ids") @Size(max = 100) List<UUID> evalDatasetIds) implements JobSpec {

    @Override
    public List<InputRef> inputs() {
        return new InputRef.Collector()
                .add("base_checkpoint_id", InputRef.Kind.CHECKPOINT, baseCheckpointId)
                .addAll("expert_ids", InputRef.Kind.CHECKPOINT, expertIds)
                .add("adaptation_dataset_id", InputRef.Kind.DATASET, adaptationDatasetId)
                .addAll("eval_dataset_ids", InputRef.Kind.DATASET, evalDatasetIds)
                .build();
    }
}
