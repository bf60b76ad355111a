package dev.consort.evaluation;

import java.util.List;
import java.util.UUID;

import com.fasterxml.jackson.annotation.JsonProperty;

import dev.consort.dataset.Split;
import dev.consort.engine.TokenSequence;
import dev.consort.job.spec.JobDefaults;

/**
 * Which windows a results table scores: each dataset's {@code split} (null: validation, or train for a dataset
 * without a validation split), the first {@code maxWindows} deterministic windows of {@code context} tokens
 * (null: {@value JobDefaults#CONTEXT}, or what the model and the data allow), {@code batchSize} windows per
 * forward pass; with {@code exactMatch}, each row also gets its task accuracy on the dataset's records. Part of the
 * plans of evaluate and merge jobs.
 */
public record EvaluationPlan(
        @JsonProperty("dataset_ids") List<UUID> datasetIds,
        Split split,
        Integer context,
        @JsonProperty("max_windows") int maxWindows,
        @JsonProperty("batch_size") int batchSize,
        @JsonProperty("exact_match") ExactMatch.Settings exactMatch) {

    public EvaluationPlan {
        datasetIds = List.copyOf(datasetIds);
    }

    /** Losses only. */
    public EvaluationPlan(List<UUID> datasetIds, Split split, Integer context, int maxWindows, int batchSize) {
        this(datasetIds, split, context, maxWindows, batchSize, null);
    }

    /** The window length for {@code tokens} on a model of {@code nPositions}: as asked, else the default that fits. */
    public int contextFor(TokenSequence tokens, int nPositions) {
        if (context != null) {
            return context;
        }
        long fits = tokens == null ? JobDefaults.CONTEXT : tokens.length() - 1;
        return (int) Math.max(2, Math.min(JobDefaults.context(nPositions), fits));
    }
}
