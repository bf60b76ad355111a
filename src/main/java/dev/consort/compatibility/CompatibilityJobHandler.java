package dev.consort.compatibility;

import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import org.springframework.stereotype.Component;

import com.fasterxml.jackson.annotation.JsonProperty;

import dev.consort.checkpoint.Checkpoint;
import dev.consort.checkpoint.CheckpointModels;
import dev.consort.cka.CkaAccumulator;
import dev.consort.cka.CkaEstimator;
import dev.consort.cka.LayerSimilarity;
import dev.consort.dataset.DatasetTokens;
import dev.consort.dataset.Split;
import dev.consort.engine.Devices;
import dev.consort.engine.Gpt2Model;
import dev.consort.engine.MemoryEstimate;
import dev.consort.engine.TokenSequence;
import dev.consort.evaluation.Interval;
import dev.consort.job.InvalidSpecException;
import dev.consort.job.JobContext;
import dev.consort.job.JobFailedException;
import dev.consort.job.JobHandler;
import dev.consort.job.spec.InputRef;
import dev.consort.job.spec.JobBudgets;
import dev.consort.job.spec.JobDefaults;
import dev.consort.job.spec.JobSpec;
import dev.consort.tenant.CurrentTenant;
import io.swagger.v3.oas.annotations.media.Schema;
import jakarta.validation.constraints.Max;
import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotNull;
import jakarta.validation.constraints.Size;

/**
 * {@code compatibility}: before spending compute on a merge, how two specialists' CKA on a small probe of the
 * target data (the paper's measure: the residual stream of layer n_layer / 2, averaged over each window) predicts
 * the gain of merging them over the better of the two, from what the tenant's sweeps realised
 * ({@link CompatibilityModel}), with a 95% prediction interval, and the advice that follows: merge, fine-tune
 * instead, or measure (the interval straddles zero).
 */
@Component
class CompatibilityJobHandler implements JobHandler<CompatibilityJobHandler.Spec, CompatibilityJobHandler.Plan> {

    /** Two specialists, a probe of the target data, and the merge method whose gain is predicted. */
    @Schema(name = "CompatibilitySpec")
    public record Spec(
            @JsonProperty("expert_ids") @NotNull @Size(min = 2, max = 2) List<@NotNull UUID> expertIds,
            @JsonProperty("probe_dataset_id") @NotNull UUID probeDatasetId,
            @JsonProperty("merge_method")
            @Schema(description = "The merge whose gain is predicted: activation_interpolation (default) or a "
                    + "weight-space method that sweeps were run with")
            String method,
            @Schema(description = "Probe windows (default 64)") @Min(4) @Max(4096) Integer windows,
            @Min(2) @Max(65536) Integer context) implements JobSpec {

        @Override
        public List<InputRef> inputs() {
            return new InputRef.Collector()
                    .addAll("expert_ids", InputRef.Kind.CHECKPOINT, expertIds)
                    .add("probe_dataset_id", InputRef.Kind.DATASET, probeDatasetId)
                    .build();
        }
    }

    /** The probe, and the model as the tenant's sweeps gave it when the job was submitted. */
    record Plan(@JsonProperty("expert_ids") List<UUID> expertIds, @JsonProperty("probe_dataset_id") UUID probe,
            String method, int windows, Integer context, CompatibilityModel model) {}

    private final CheckpointModels models;
    private final DatasetTokens datasets;
    private final SweepObservations observations;
    private final JobBudgets budgets;

    CompatibilityJobHandler(CheckpointModels models, DatasetTokens datasets, SweepObservations observations,
            JobBudgets budgets) {
        this.budgets = budgets;
        this.models = models;
        this.datasets = datasets;
        this.observations = observations;
    }

    @Override
    public String type() {
        return "compatibility";
    }

    @Override
    public Class<Spec> specType() {
        return Spec.class;
    }

    @Override
    public Class<Plan> planType() {
        return Plan.class;
    }

    /** Refused when the tenant's sweeps give no model to predict with yet. */
    @Override
    public Plan plan(Spec spec) throws InvalidSpecException {
        String method = spec.method() == null ? "activation_interpolation" : spec.method();
        Checkpoint a = models.checkpoint(spec.expertIds().get(0));
        Checkpoint b = models.checkpoint(spec.expertIds().get(1));
        if (a.nLayer() != b.nLayer() || a.nEmbd() != b.nEmbd()) {
            throw new InvalidSpecException("expert_ids", "the two experts must share n_layer and n_embd");
        }
        if (spec.context() != null && spec.context() > Math.min(a.nPositions(), b.nPositions())) {
            throw new InvalidSpecException("context", "exceeds the experts' n_positions");
        }
        // The probe runs both experts through CKA's accumulators, as a cka job does.
        InvalidSpecException.throwIfAny(budgets.check(JobBudgets.Estimate.memoryOnly("context",
                MemoryEstimate.similarity(models.config(a), models.config(b), JobDefaults.BATCH_SIZE,
                        spec.context() != null ? spec.context()
                                : JobDefaults.context(Math.min(a.nPositions(), b.nPositions())),
                        CkaAccumulator.DEFAULT_ROWS_PER_PRODUCT))));
        List<CompatibilityModel.Observation> seen = observations.of(CurrentTenant.orDefault(), method);
        if (seen.size() < CompatibilityModel.MIN_OBSERVATIONS) {
            throw new InvalidSpecException("merge_method", "no compatibility model for " + method + " yet: it is learned from "
                    + "sweeps (" + seen.size() + " steps so far, " + CompatibilityModel.MIN_OBSERVATIONS
                    + " needed); run a sweep with that method and the default CKA settings first");
        }
        return new Plan(spec.expertIds(), spec.probeDatasetId(), method,
                spec.windows() == null ? JobDefaults.CKA_WINDOWS : spec.windows(), spec.context(),
                CompatibilityModel.fit(seen));
    }

    @Override
    public Object run(Plan plan, JobContext job) throws Exception {
        TokenSequence probe = probe(plan.probe());
        var device = Devices.parse(job.device());
        double cka;
        int windows;
        int context;
        try (Gpt2Model a = models.load(plan.expertIds().get(0), device);
             Gpt2Model b = models.load(plan.expertIds().get(1), device)) {
            context = plan.context() != null ? plan.context()
                    : (int) Math.min(JobDefaults.context(a.config().nPositions()), probe.length() - 1);
            windows = (int) Math.min(plan.windows(), probe.length() / context);
            if (windows < 2) {
                throw new JobFailedException("dataset_too_small", "the probe holds fewer than 2 windows of " + context
                        + " tokens");
            }
            int layers = a.config().nLayer();
            cka = LayerSimilarity.compute(a, b, probe, new LayerSimilarity.Sample(context, windows,
                    JobDefaults.BATCH_SIZE, true, true), CkaEstimator.LINEAR, null, LayerSimilarity.Progress.NONE)
                    .get(layers / 2, layers + layers / 2);
        }
        Interval gain = plan.model().predict(cka);
        Map<String, Object> result = new LinkedHashMap<>();
        result.put("method", plan.method());
        result.put("cka", cka);
        result.put("windows", windows);
        result.put("context", context);
        result.put("predicted_gain", gain.toMap("gain"));
        result.put("recommendation", gain.aboveZero() ? "merge" : gain.belowZero() ? "fine-tune instead" : "measure");
        result.put("reason", gain.aboveZero() ? "the merge is predicted to beat the better expert beyond the interval"
                : gain.belowZero() ? "the merge is predicted to lose to the better expert beyond the interval"
                : "the prediction interval straddles zero: run a sweep or a merge job to measure the gain");
        result.put("model", plan.model().toMap());
        return result;
    }

    private TokenSequence probe(UUID dataset) throws IOException {
        Split split = datasets.heldOutSplit(dataset);
        TokenSequence tokens = datasets.sequence(dataset, split);
        if (tokens == null || tokens.length() < 3) {
            throw new JobFailedException("dataset_too_small", "the probe dataset " + dataset + " has no windows");
        }
        return tokens;
    }
}
