package dev.consort.training;

import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

import com.fasterxml.jackson.annotation.JsonProperty;

import dev.consort.job.spec.InputRef;
import dev.consort.job.spec.JobSpec;
import dev.consort.web.ApiProblem.FieldError;
import io.swagger.v3.oas.annotations.media.Schema;
import jakarta.validation.Valid;
import jakarta.validation.constraints.NotNull;
import jakarta.validation.constraints.Pattern;
import jakarta.validation.constraints.Size;

/**
 * Continue training a checkpoint on a dataset, or on a mixture of datasets (DataMix: {@code dataset_ids} with
 * {@code mixture_weights}, each training window drawn from dataset i with probability weight i / Σ weights): the
 * MLPs only (the paper's specialists) or everything.
 */
public record FinetuneSpec(
        @JsonProperty("base_checkpoint_id") @NotNull UUID baseCheckpointId,
        @JsonProperty("dataset_id") @Schema(description = "The dataset to train on; or dataset_ids for a mixture")
        UUID datasetId,
        @JsonProperty("dataset_ids") @Schema(description = "DataMix: the datasets whose training windows are mixed")
        @Size(min = 2, max = 8) List<@NotNull UUID> datasetIds,
        @JsonProperty("mixture_weights") @Schema(description = "DataMix: one positive weight per dataset_ids entry "
                + "(default: equal)")
        List<@NotNull Double> mixtureWeights,
        @Pattern(regexp = "mlp|all", message = "must be 'mlp' or 'all'") String trainable,
        @NotNull @Valid TrainingSettings training) implements JobSpec {

    @Override
    public List<InputRef> inputs() {
        return new InputRef.Collector()
                .add("base_checkpoint_id", InputRef.Kind.CHECKPOINT, baseCheckpointId)
                .add("dataset_id", InputRef.Kind.DATASET, datasetId)
                .addAll("dataset_ids", InputRef.Kind.DATASET, datasetIds)
                .build();
    }

    @Override
    public List<FieldError> crossFieldErrors() {
        List<FieldError> errors = new ArrayList<>();
        if ((datasetId == null) == (datasetIds == null)) {
            errors.add(new FieldError(datasetId == null ? "dataset_id" : "dataset_ids",
                    datasetId == null ? "is required (or dataset_ids for a mixture)" : "give dataset_id or dataset_ids, not both"));
        }
        TrainingJobRunner.TrainingData.weightProblem(datasetIds, mixtureWeights)
                .ifPresent(problem -> errors.add(new FieldError("mixture_weights", problem)));
        return errors;
    }

    /** What the run trains on: the dataset, or the mixture. */
    public TrainingJobRunner.TrainingData data() {
        return datasetIds == null ? TrainingJobRunner.TrainingData.of(datasetId)
                : new TrainingJobRunner.TrainingData(datasetIds, mixtureWeights);
    }
}
