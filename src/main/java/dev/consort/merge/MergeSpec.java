package dev.consort.merge;

import java.util.List;
import java.util.Map;
import java.util.UUID;

import com.fasterxml.jackson.annotation.JsonProperty;

import dev.consort.evaluation.ExactMatchSpec;
import dev.consort.job.spec.InputRef;
import dev.consort.job.spec.JobSpec;
import dev.consort.training.TrainingSettings;
import io.swagger.v3.oas.annotations.media.Schema;
import jakarta.validation.Valid;
import jakarta.validation.constraints.DecimalMax;
import jakarta.validation.constraints.DecimalMin;
import jakarta.validation.constraints.Max;
import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotBlank;
import jakarta.validation.constraints.NotEmpty;
import jakarta.validation.constraints.NotNull;
import jakarta.validation.constraints.Pattern;
import jakarta.validation.constraints.Size;

/**
 * Merge experts with one method ({@code method} + {@code parameters}) or compare several on the same
 * data ({@code methods}), evaluate every output on the eval datasets, and optionally fine-tune the base
 * on the adaptation data as the baseline every merge is measured against (the paper's Table 1).
 * Weight-space methods produce a checkpoint; feature-space methods a routed model. The JSON form only:
 * {@link MergePlanner} checks it and makes it the {@link MergePlan} a worker runs.
 */
public record MergeSpec(
        @JsonProperty("base_checkpoint_id")
        @Schema(description = "The common ancestor: required by task-vector methods and include_base routing")
        UUID baseCheckpointId,
        @JsonProperty("expert_ids") @NotEmpty @Size(max = 8) List<@NotNull UUID> expertIds,
        @Schema(description = "One method: linear, slerp, task_arithmetic, ties, dare_linear, dare_ties, breadcrumbs, "
                + "model_stock, della, della_linear, nearswap, karcher, sce, activation_interpolation, single_router, "
                + "layer_routing, multi_layer_routing")
        String method,
        @Schema(description = "The method's parameters (t, weights, density, lambda, span, router, top_k, ...)")
        Map<String, Object> parameters,
        @Schema(description = "Several methods to compare on the same data, instead of method/parameters")
        @Valid @Size(max = 32) List<@NotNull @Valid MethodRequest> methods,
        @JsonProperty("adaptation_dataset_id")
        @Schema(description = "Data that routers are fitted and α is searched on; the baseline fine-tunes on it")
        UUID adaptationDatasetId,
        @JsonProperty("eval_dataset_ids") @Size(max = 20) List<@NotNull UUID> evalDatasetIds,
        @Valid Evaluation evaluation,
        @JsonProperty("router_training") @Valid RouterTraining routerTraining,
        @Valid Baseline baseline,
        Long seed,
        @JsonProperty("out_dtype") @Pattern(regexp = "float32|float16|bfloat16",
                message = "must be float32, float16 or bfloat16")
        @Schema(description = "The dtype weight-space merges write their checkpoints in (mergekit's out_dtype): "
                + "float32 (default), float16 or bfloat16. Merging itself computes in float32 or better")
        String outDtype) implements JobSpec {

    /**
     * One method to run: its parameters (mergekit's top-level {@code parameters}), per-expert parameters in
     * the order of {@code expert_ids} (mergekit's {@code models[i].parameters}, e.g. {@code weight},
     * {@code density}), and an optional label for the results table.
     */
    public record MethodRequest(
            @NotBlank String method,
            Map<String, Object> parameters,
            @JsonProperty("model_parameters") @Size(max = 8) List<Map<String, Object>> modelParameters,
            @Size(max = 100) String label) {

        public MethodRequest(String method, Map<String, Object> parameters) {
            this(method, parameters, null, null);
        }

        /** How the results table names this request. */
        public String displayName() {
            return label != null ? label : method;
        }
    }

    /**
     * How outputs are evaluated: deterministic windows of {@code context} tokens, and with {@code metrics: ["loss",
     * "exact_match"]} task accuracy on the eval datasets' records, for every row (base, experts, merges, routed
     * models, baselines).
     */
    public record Evaluation(
            @Pattern(regexp = "train|validation", message = "must be 'train' or 'validation'") String split,
            @Min(2) @Max(65536) Integer context,
            @JsonProperty("max_windows") @Min(1) @Max(1_000_000) Integer maxWindows,
            @JsonProperty("batch_size") @Min(1) @Max(4096) Integer batchSize,
            @Schema(description = "What to measure: [\"loss\"] (default, also when empty) or [\"loss\", \"exact_match\"]")
            @Size(max = 2) List<@Pattern(regexp = "loss|exact_match", message = "must be loss or exact_match") String> metrics,
            @JsonProperty("exact_match") @Valid ExactMatchSpec exactMatch) {}

    /**
     * Router fitting (defaults: 200 steps, AdamW lr 5e-3, weight decay 0.1, cosine to 0.1×, clip 1.0, best
     * validation step kept). {@code epochs} sizes the budget to the data instead of {@code steps}: that many passes
     * over the adaptation data's training windows. {@code patience} stops once that many validations in a row did
     * not improve; {@code seeds} fits every router method that many times (seeds seed, seed + 1, ...) and reports
     * the mean with its spread.
     */
    public record RouterTraining(
            @Min(1) @Max(1_000_000) Integer steps,
            @DecimalMin(value = "0", inclusive = false) @DecimalMax("1000") Double epochs,
            @Min(1) @Max(10_000) Integer patience,
            @Min(1) @Max(10) Integer seeds,
            @JsonProperty("batch_size") @Min(1) @Max(4096) Integer batchSize,
            @Min(2) @Max(65536) Integer context,
            @JsonProperty("learning_rate") @DecimalMin(value = "0", inclusive = false) @DecimalMax("1") Double learningRate,
            @JsonProperty("eval_every") @Min(1) Integer evalEvery,
            @JsonProperty("eval_windows") @Min(1) @Max(1_000_000) Integer evalWindows) {}

    /**
     * The baselines every merge is measured against: {@code finetune}, the base (or first expert) trained on the
     * adaptation data (the paper's Table 1), and {@code datamix}, the same model trained on a mixture of datasets,
     * usually the specialists' (the paper's DataMix). At least one.
     */
    public record Baseline(@Valid FinetuneBaseline finetune, @Valid DataMixBaseline datamix) {}

    /**
     * Defaults: the MLPs only, lr 8e-5 (the paper's baseline as its code runs it, {@code finetuning/exp1.sh}), one
     * run; {@code seeds} trains it that many times (training seeds seed, seed + 1, ...) and reports the mean.
     */
    public record FinetuneBaseline(
            @Pattern(regexp = "mlp|all", message = "must be 'mlp' or 'all'") String trainable,
            @NotNull @Valid TrainingSettings training,
            @Min(1) @Max(10) Integer seeds) {}

    /**
     * Defaults: the MLPs only, lr 8e-4, as the paper's code trains its DataMix models
     * ({@code experiments_final/finetune_datamix/exp1.sh}); windows drawn from dataset i with probability
     * weight i / Σ weights (default: equal).
     */
    public record DataMixBaseline(
            @JsonProperty("dataset_ids") @NotNull @Size(min = 2, max = 8) List<@NotNull UUID> datasetIds,
            @JsonProperty("mixture_weights") @Schema(description = "One positive weight per dataset_ids entry "
                    + "(default: equal)") List<@NotNull Double> mixtureWeights,
            @Pattern(regexp = "mlp|all", message = "must be 'mlp' or 'all'") String trainable,
            @NotNull @Valid TrainingSettings training,
            @Min(1) @Max(10) Integer seeds) {}

    /** The methods to run, whichever way they were given. */
    public List<MethodRequest> requests() {
        if (methods != null && !methods.isEmpty()) {
            return methods;
        }
        return method == null ? List.of() : List.of(new MethodRequest(method, parameters));
    }

    @Override
    public List<InputRef> inputs() {
        return new InputRef.Collector()
                .add("base_checkpoint_id", InputRef.Kind.CHECKPOINT, baseCheckpointId)
                .addAll("expert_ids", InputRef.Kind.CHECKPOINT, expertIds)
                .add("adaptation_dataset_id", InputRef.Kind.DATASET, adaptationDatasetId)
                .addAll("eval_dataset_ids", InputRef.Kind.DATASET, evalDatasetIds)
                .addAll("baseline.datamix.dataset_ids", InputRef.Kind.DATASET,
                        baseline == null || baseline.datamix() == null ? null : baseline.datamix().datasetIds())
                .build();
    }
}
