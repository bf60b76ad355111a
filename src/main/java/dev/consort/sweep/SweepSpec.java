package dev.consort.sweep;

import java.util.List;
import java.util.UUID;

import com.fasterxml.jackson.annotation.JsonProperty;

import dev.consort.job.spec.InputRef;
import dev.consort.job.spec.JobSpec;
import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotNull;

/**
 * Merge loss and CKA along two fine-tuning runs' shared checkpoint steps, to find the step where
 * merging stops paying (the paper's Figure 3).
 */
public record SweepSpec(
        @JsonProperty("finetune_job_a_id") @NotNull UUID finetuneJobAId,
        @JsonProperty("finetune_job_b_id") @NotNull UUID finetuneJobBId,
        @JsonProperty("adaptation_dataset_id") @NotNull UUID adaptationDatasetId,
        @JsonProperty("reference_dataset_id") @NotNull UUID referenceDatasetId,
        @Min(0) Integer layer,
        String method) implements JobSpec {

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
