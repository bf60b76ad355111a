package dev.consort.evaluation;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import org.springframework.stereotype.Component;

import com.fasterxml.jackson.annotation.JsonProperty;

import dev.consort.checkpoint.Checkpoint;
import dev.consort.checkpoint.CheckpointModels;
import dev.consort.dataset.Split;
import dev.consort.engine.Devices;
import dev.consort.engine.MemoryEstimate;
import dev.consort.job.InvalidSpecException;
import dev.consort.job.JobContext;
import dev.consort.job.JobHandler;
import dev.consort.job.spec.JobBudgets;
import dev.consort.job.spec.JobDefaults;
import dev.consort.web.ApiProblem.FieldError;

/**
 * {@code evaluate}: the loss of every checkpoint on every dataset over the deterministic windows
 * (window k: inputs s[kT:(k+1)T], targets shifted by one; mean cross-entropy over every position), so
 * anyone with the token file can reproduce a number. Runs without gradients, beside training.
 */
@Component
class EvaluateJobHandler implements JobHandler<EvaluateSpec, EvaluateJobHandler.Plan> {

    /** The checkpoints, and the windows (and records, for exact_match) each is scored on. */
    record Plan(@JsonProperty("checkpoint_ids") List<UUID> checkpointIds, EvaluationPlan evaluation) {}

    private final CheckpointModels models;
    private final EvaluationTable table;
    private final JobBudgets budgets;

    EvaluateJobHandler(CheckpointModels models, EvaluationTable table, JobBudgets budgets) {
        this.models = models;
        this.table = table;
        this.budgets = budgets;
    }

    @Override
    public String type() {
        return "evaluate";
    }

    @Override
    public Class<EvaluateSpec> specType() {
        return EvaluateSpec.class;
    }

    @Override
    public Class<Plan> planType() {
        return Plan.class;
    }

    /** The split defaults to validation (a dataset without one fails the job); the context must fit every model. */
    @Override
    public Plan plan(EvaluateSpec spec) throws InvalidSpecException {
        List<FieldError> errors = new ArrayList<>();
        int batch = spec.batchSize() == null ? JobDefaults.BATCH_SIZE : spec.batchSize();
        for (int i = 0; i < spec.checkpointIds().size(); i++) {
            Checkpoint checkpoint = models.checkpoint(spec.checkpointIds().get(i));
            if (spec.context() != null && spec.context() > checkpoint.nPositions()) {
                errors.add(new FieldError("context", "exceeds n_positions " + checkpoint.nPositions()
                        + " of checkpoint_ids[" + i + "]"));
            } else if (errors.isEmpty()) {
                // One checkpoint at a time, each on batch_size windows of the context.
                int context = spec.context() != null ? spec.context() : JobDefaults.context(checkpoint.nPositions());
                errors.addAll(budgets.check(JobBudgets.Estimate.memoryOnly("batch_size",
                        MemoryEstimate.evaluation(models.config(checkpoint), 1, batch, context))));
            }
        }
        ExactMatch.Settings exactMatch = ExactMatch.plan(spec.metrics(), spec.exactMatch(), "", errors);
        InvalidSpecException.throwIfAny(errors);
        Split split = "train".equals(spec.split()) ? Split.TRAIN : Split.VALIDATION;
        return new Plan(spec.checkpointIds(), new EvaluationPlan(spec.datasetIds(), split, spec.context(),
                spec.maxWindows() == null ? JobDefaults.EVALUATE_WINDOWS : spec.maxWindows(), batch, exactMatch));
    }

    @Override
    public Object run(Plan plan, JobContext job) throws Exception {
        ResultsTable results = new ResultsTable();
        int cells = plan.checkpointIds().size() * plan.evaluation().datasetIds().size();
        for (UUID checkpointId : plan.checkpointIds()) {
            List<ResultRow> rows = table.checkpoint(job, plan.evaluation(), checkpointId, Devices.parse(job.device()),
                    Map.of("checkpoint_id", checkpointId), Map.of());
            results.addAll(rows);
            job.progress(Map.of("done", results.rows().size(), "total", cells, "last_loss",
                    rows.get(rows.size() - 1).loss()));
        }
        // Every checkpoint against the first, on the same windows.
        UUID first = plan.checkpointIds().get(0);
        return Map.of("rows", results.render(List.of(new ResultsTable.Comparison("vs_first",
                row -> first.equals(row.identity("checkpoint_id"))))));
    }
}
