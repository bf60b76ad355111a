package dev.consort.evaluation;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import org.springframework.stereotype.Component;

import com.fasterxml.jackson.annotation.JsonProperty;

import dev.consort.checkpoint.Checkpoint;
import dev.consort.checkpoint.CheckpointModels;
import dev.consort.dataset.Gpt2Tokenizer;
import dev.consort.dataset.Split;
import dev.consort.engine.Devices;
import dev.consort.engine.Gpt2Model;
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

    /** The checkpoints, and the windows each is scored on. */
    record Plan(@JsonProperty("checkpoint_ids") List<UUID> checkpointIds, EvaluationPlan evaluation,
            @JsonProperty("exact_match") ExactMatch.Settings exactMatch) {}

    private final CheckpointModels models;
    private final EvaluationTable table;
    private final JobBudgets budgets;
    private final Gpt2Tokenizer tokenizer;

    EvaluateJobHandler(CheckpointModels models, EvaluationTable table, JobBudgets budgets, Gpt2Tokenizer tokenizer) {
        this.models = models;
        this.table = table;
        this.budgets = budgets;
        this.tokenizer = tokenizer;
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
        // An empty list, as generated clients send for an unset array, is the default too.
        List<String> metrics = spec.metrics() == null || spec.metrics().isEmpty() ? List.of("loss") : spec.metrics();
        if (!metrics.contains("loss")) {
            errors.add(new FieldError("metrics", "must include loss: every row of the table is a loss"));
        }
        boolean exactMatch = metrics.contains("exact_match");
        if (spec.exactMatch() != null && !exactMatch) {
            errors.add(new FieldError("exact_match", "is set, but metrics does not ask for exact_match"));
        }
        InvalidSpecException.throwIfAny(errors);
        Split split = "train".equals(spec.split()) ? Split.TRAIN : Split.VALIDATION;
        EvaluateSpec.ExactMatchSpec asked = spec.exactMatch() != null ? spec.exactMatch()
                : new EvaluateSpec.ExactMatchSpec(null, null, null, null);
        ExactMatch.Settings settings = !exactMatch ? null : new ExactMatch.Settings(
                asked.promptEnd() != null ? asked.promptEnd() : "\n",
                asked.answerMarker() != null ? asked.answerMarker() : "####",
                asked.maxRecords() != null ? asked.maxRecords() : 50, asked.maxTokens() != null ? asked.maxTokens() : 128);
        return new Plan(spec.checkpointIds(), new EvaluationPlan(spec.datasetIds(), split, spec.context(),
                spec.maxWindows() == null ? JobDefaults.EVALUATE_WINDOWS : spec.maxWindows(), batch), settings);
    }

    @Override
    public Object run(Plan plan, JobContext job) throws Exception {
        ResultsTable results = new ResultsTable();
        int cells = plan.checkpointIds().size() * plan.evaluation().datasetIds().size();
        for (UUID checkpointId : plan.checkpointIds()) {
            List<ResultRow> rows;
            if (plan.exactMatch() == null) {
                rows = table.checkpoint(job, plan.evaluation(), checkpointId, Devices.parse(job.device()),
                        Map.of("checkpoint_id", checkpointId), Map.of());
            } else {
                // One load of the weights for both: the losses, then the answers generated with the same model.
                try (Gpt2Model model = models.load(checkpointId, Devices.parse(job.device()))) {
                    rows = withExactMatch(job, plan, model, table.rows(job, plan.evaluation(),
                            EvaluationTable.ScoredModel.of(model), Map.of("checkpoint_id", checkpointId), Map.of()));
                }
            }
            results.addAll(rows);
            job.progress(Map.of("done", results.rows().size(), "total", cells, "last_loss",
                    rows.get(rows.size() - 1).loss()));
        }
        // Every checkpoint against the first, on the same windows.
        UUID first = plan.checkpointIds().get(0);
        return Map.of("rows", results.render(List.of(new ResultsTable.Comparison("vs_first",
                row -> first.equals(row.identity("checkpoint_id"))))));
    }

    /** The rows with each dataset's exact_match score appended: the model greedy-generates after each record's prompt. */
    private List<ResultRow> withExactMatch(JobContext job, Plan plan, Gpt2Model model, List<ResultRow> rows)
            throws Exception {
        List<ResultRow> scored = new ArrayList<>();
        for (ResultRow row : rows) {
            job.event("exact_match", "generating answers on dataset " + row.datasetId(),
                    Map.of("checkpoint_id", row.identity("checkpoint_id"), "dataset_id", row.datasetId()));
            ExactMatch.Score score = ExactMatch.score(model, table.tokens(plan.evaluation(), row.datasetId()),
                    plan.exactMatch(), tokenizer, job::checkCancelled);
            Map<String, Object> trailing = new LinkedHashMap<>(row.trailing());
            trailing.put("exact_match", score.toMap());
            scored.add(new ResultRow(row.identity(), row.datasetId(), row.split(), row.context(), row.result(),
                    trailing));
        }
        return scored;
    }
}
