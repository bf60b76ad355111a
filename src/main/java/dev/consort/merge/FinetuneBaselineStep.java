package dev.consort.merge;

import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import org.springframework.stereotype.Component;

import ai.djl.Device;
import dev.consort.checkpoint.Checkpoint;
import dev.consort.checkpoint.CheckpointModels;
import dev.consort.database.TimeOrderedIds;
import dev.consort.engine.Gpt2Model;
import dev.consort.engine.TrainingPlan;
import dev.consort.evaluation.EvaluationTable;
import dev.consort.evaluation.ResultsTable;
import dev.consort.job.JobContext;
import dev.consort.training.TrainingJobRunner;

/**
 * The paper's Table 1 baseline in a merge job: the shared model (the base, else the first expert) fine-tuned
 * directly on the adaptation data by the training engine, its loss curves under {@code baseline/}, and its best
 * checkpoint evaluated into the results table beside the merges.
 */
@Component
class FinetuneBaselineStep {

    private final CheckpointModels models;
    private final TrainingJobRunner training;
    private final EvaluationTable table;

    FinetuneBaselineStep(CheckpointModels models, TrainingJobRunner training, EvaluationTable table) {
        this.models = models;
        this.training = training;
        this.table = table;
    }

    /** Trains and evaluates; returns the output entry of the job's result. */
    Map<String, Object> run(JobContext job, MergePlan plan, Device device, ResultsTable results)
            throws Exception {
        TrainingPlan trainingPlan = plan.baseline().training();
        UUID start = plan.sharedCheckpointId();
        Checkpoint checkpoint = models.checkpoint(start);
        Map<String, Object> trained;
        try (Gpt2Model model = models.load(start, device)) {
            trained = training.run(job, new TrainingJobRunner.Run(model, checkpoint.configJson().getBytes(
                    StandardCharsets.UTF_8), trainingPlan, plan.adaptationDatasetId(), start,
                    "baseline-" + TimeOrderedIds.shortForm(job.jobId()), "baseline/"));
        }
        Object best = trained.get("best_checkpoint_id");
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> saved = (List<Map<String, Object>>) trained.get("checkpoints");
        UUID finetuned = best != null ? (UUID) best : (UUID) saved.get(saved.size() - 1).get("checkpoint_id");
        Map<String, Object> parameters = new LinkedHashMap<>();
        parameters.put("trainable", trainingPlan.trainable().name().toLowerCase());
        parameters.put("learning_rate", trainingPlan.learningRate());
        parameters.put("steps", trainingPlan.steps());
        results.addAll(table.checkpoint(job, plan.evaluation(), finetuned, device,
                MergeJobHandler.identity("finetune_baseline", "finetune baseline", parameters),
                MergeJobHandler.output("checkpoint", finetuned)));
        return Map.of("label", "finetune baseline", "method", "finetune_baseline", "kind", "checkpoint",
                "checkpoint_id", finetuned);
    }
}
