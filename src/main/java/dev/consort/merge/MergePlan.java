package dev.consort.merge;

import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;
import java.util.stream.Stream;

import com.fasterxml.jackson.annotation.JsonProperty;

import dev.consort.engine.TrainingPlan;
import dev.consort.evaluation.EvaluationPlan;
import dev.consort.training.TrainingJobRunner;

/**
 * A merge job as {@link MergePlanner} validated it, whether it came as JSON or as a mergekit YAML config: what
 * the worker runs, every default resolved. Stored with the job at submission.
 *
 * @param baseCheckpointId the base, or null; the shared non-MLP weights of routed models are its (else the
 *                         first expert's)
 * @param methods          the methods in the order of the results table
 * @param routerTraining   how routers are fitted, resolved for the shared model's n_positions
 * @param routerPatience   validations without improvement that stop router fitting; 0 to run every step
 * @param routerSeeds      how many times each router method is fitted, seeds seed, seed + 1, ...
 * @param baseline         the fine-tuning baseline (on the adaptation data), or null for none
 * @param datamix          the DataMix baseline (on a mixture of datasets), or null for none
 * @param seed             seed of sampling methods and router initialisation
 */
public record MergePlan(
        @JsonProperty("base_checkpoint_id") UUID baseCheckpointId,
        @JsonProperty("expert_ids") List<UUID> expertIds,
        @JsonProperty("adaptation_dataset_id") UUID adaptationDatasetId,
        List<Method> methods,
        EvaluationPlan evaluation,
        @JsonProperty("router_training") TrainingPlan routerTraining,
        @JsonProperty("router_patience") int routerPatience,
        @JsonProperty("router_seeds") int routerSeeds,
        Baseline baseline,
        Baseline datamix,
        long seed,
        @JsonProperty("out_dtype") String outDtype) {

    public MergePlan {
        expertIds = List.copyOf(expertIds);
        methods = List.copyOf(methods);
    }

    /**
     * One method to run, as the request gave it (its meaning checked: {@link MergePlanner#recipe} and
     * {@link MergePlanner#routing} turn it into what the merge libraries take).
     *
     * @param featureSpace whether it is a feature-space method (a routed model) rather than a weight-space one
     */
    public record Method(String method, String label, Map<String, Object> parameters,
            @JsonProperty("model_parameters") List<Map<String, Object>> modelParameters,
            @JsonProperty("feature_space") boolean featureSpace) {

        public Method {
            parameters = parameters == null ? Map.of() : parameters;
            modelParameters = modelParameters == null ? List.of() : modelParameters;
        }

        /** How the results table names it. */
        public String displayName() {
            return label != null ? label : method;
        }
    }

    /**
     * A baseline: the shared model trained by {@code training}, {@code seeds} times (training seeds
     * {@code training.seed()}, + 1, ...), on the adaptation data, or on the mixture of {@code datasetIds} drawn by
     * {@code mixtureWeights} (null: equal) when they are given.
     */
    public record Baseline(TrainingPlan training, int seeds,
            @JsonProperty("dataset_ids") List<UUID> datasetIds,
            @JsonProperty("mixture_weights") List<Double> mixtureWeights) {

        /** What it trains on: the mixture, else the adaptation data. */
        public TrainingJobRunner.TrainingData data(UUID adaptationDatasetId) {
            return datasetIds == null ? TrainingJobRunner.TrainingData.of(adaptationDatasetId)
                    : new TrainingJobRunner.TrainingData(datasetIds, mixtureWeights);
        }
    }

    /** The baselines the plan trains, in the order they run. */
    public List<Baseline> baselines() {
        return Stream.of(baseline, datamix).filter(Objects::nonNull).toList();
    }

    /** The checkpoint whose non-MLP weights every output shares: the base, else the first expert. */
    public UUID sharedCheckpointId() {
        return baseCheckpointId != null ? baseCheckpointId : expertIds.get(0);
    }
}
