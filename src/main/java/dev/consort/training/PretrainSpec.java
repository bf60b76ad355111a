package dev.consort.training;

import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

import com.fasterxml.jackson.annotation.JsonProperty;

import dev.consort.job.spec.InputRef;
import dev.consort.job.spec.JobSpec;
import dev.consort.web.ApiProblem.FieldError;
import jakarta.validation.Valid;
import jakarta.validation.constraints.NotNull;

/** Train a GPT-2 from random initialisation on a dataset. */
public record PretrainSpec(
        @NotNull @Valid ModelShape config,
        @JsonProperty("dataset_id") @NotNull UUID datasetId,
        @NotNull @Valid TrainingSettings training) implements JobSpec {

    @Override
    public List<InputRef> inputs() {
        return new InputRef.Collector().add("dataset_id", InputRef.Kind.DATASET, datasetId).build();
    }

    @Override
    public List<FieldError> crossFieldErrors() {
        List<FieldError> errors = new ArrayList<>();
        if (config != null && config.nEmbd() != null && config.nHead() != null && config.nEmbd() % config.nHead() != 0) {
            errors.add(new FieldError("config.n_embd", "must be divisible by n_head (" + config.nHead() + ")"));
        }
        if (config != null && training != null && training.context() != null && config.nPositions() != null
                && training.context() > config.nPositions()) {
            errors.add(new FieldError("training.context", "must not exceed config.n_positions (" + config.nPositions() + ")"));
        }
        return errors;
    }
}
