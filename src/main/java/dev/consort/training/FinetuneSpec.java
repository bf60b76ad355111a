package dev.consort.training;

import java.util.List;
import java.util.UUID;

import com.fasterxml.jackson.annotation.JsonProperty;

import dev.consort.job.spec.InputRef;
import dev.consort.job.spec.JobSpec;
import jakarta.validation.Valid;
import jakarta.validation.constraints.NotNull;
import jakarta.validation.constraints.Pattern;

/** Continue training a checkpoint on a dataset: the MLPs only (the paper's specialists) or everything. */
public record FinetuneSpec(
        @JsonProperty("base_checkpoint_id") @NotNull UUID baseCheckpointId,
        @JsonProperty("dataset_id") @NotNull UUID datasetId,
        @Pattern(regexp = "mlp|all", message = "must be 'mlp' or 'all'") String trainable,
        @NotNull @Valid TrainingSettings training) implements JobSpec {

    @Override
    public List<InputRef> inputs() {
        return new InputRef.Collector()
                .add("base_checkpoint_id", InputRef.Kind.CHECKPOINT, baseCheckpointId)
                .add("dataset_id", InputRef.Kind.DATASET, datasetId)
                .build();
    }
}
