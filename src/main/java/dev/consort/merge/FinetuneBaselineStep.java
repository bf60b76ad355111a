package dev.consort.merge;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
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
import dev.consort.evaluation.ResultRow;
import dev.consort.evaluation.ResultsTable;
import dev.consort.job.JobContext;
import dev.consort.training.TrainingJobRunner;

/**
 * The baselines of a merge job: the shared model (the base, else the first expert) fine-tuned by the training
 * engine, directly on the adaptation data (the paper's Table 1) or on a mixture of datasets (its DataMix), its loss
 * curves under {@code baseline/} or {@code datamix/}, and its best checkpoint evaluated into the results table
 * beside the merges. With seeds, it is trained once per training seed and its row is the mean of the runs (see
 * {@link ResultsTable#addAcrossSeeds}).
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

    /** Which baseline: how its rows, checkpoints and loss curves are named. */
    enum Kind {
        FINETUNE("finetune_baseline", "finetune baseline", "baseline"),
        DATAMIX("datamix_baseline", "datamix baseline", "datamix");

        final String method;
        final String label;
        final String prefix;

        Kind(String method, String label, String prefix) {
            this.method = method;
            this.label = label;
            this.prefix = prefix;
        }
    }

    /** Trains and evaluates {@code baseline}; returns the output entry of the job's result. */
    Map<String, Object> run(JobContext job, MergePlan plan, MergePlan.Baseline baseline, Kind kind, Device device,
            ResultsTable results) throws Exception {
        TrainingPlan trainingPlan = baseline.training();
        int seeds = baseline.seeds();
        Map<String, Object> parameters = new LinkedHashMap<>();
        parameters.put("trainable", trainingPlan.trainable().name().toLowerCase());
        parameters.put("learning_rate", trainingPlan.learningRate());
        parameters.put("steps", trainingPlan.steps());
        if (baseline.datasetIds() != null) {
            parameters.put("dataset_ids", baseline.datasetIds());
            parameters.put("mixture_weights", baseline.data(plan.adaptationDatasetId()).weightList());
        }
        // The job has one saved training state: only a job that trains a single run can resume it.
        boolean resumable = plan.baselines().size() == 1 && seeds == 1;
        List<List<ResultRow>> runs = new ArrayList<>();
        List<UUID> finetuned = new ArrayList<>();
        for (int s = 0; s < seeds; s++) {
            String run = seeds == 1 ? "" : "seed-" + s;
            UUID checkpoint = train(job, plan, baseline, kind, trainingPlan.withSeed(trainingPlan.seed() + s), run,
                    resumable, device);
            finetuned.add(checkpoint);
            runs.add(table.checkpoint(job, plan.evaluation(), checkpoint, device,
                    MergeJobHandler.identity(kind.method, kind.label, parameters),
                    MergeJobHandler.output("checkpoint", checkpoint)));
        }
        results.addAcrossSeeds(runs);
        Map<String, Object> output = new LinkedHashMap<>();
        output.put("label", kind.label);
        output.put("method", kind.method);
        output.put("kind", "checkpoint");
        output.put("checkpoint_id", finetuned.get(0));
        if (seeds > 1) {
            output.put("checkpoint_ids", finetuned);
        }
        return output;
    }

    /**
     * One training run of the baseline; returns its best checkpoint (by validation loss), or its last. A single
     * run resumes from the job's saved state after a lost worker; several share that one state, so they do not.
     */
    private UUID train(JobContext job, MergePlan plan, MergePlan.Baseline baseline, Kind kind,
            TrainingPlan trainingPlan, String run, boolean resumable, Device device) throws Exception {
        UUID start = plan.sharedCheckpointId();
        Checkpoint checkpoint = models.checkpoint(start);
        String name = kind.prefix + "-" + (run.isEmpty() ? "" : run + "-") + TimeOrderedIds.shortForm(job.jobId());
        Map<String, Object> trained;
        try (Gpt2Model model = models.load(start, device)) {
            trained = training.run(job, new TrainingJobRunner.Run(model, checkpoint.configJson().getBytes(
                    StandardCharsets.UTF_8), trainingPlan, baseline.data(plan.adaptationDatasetId()), start, name,
                    kind.prefix + "/" + (run.isEmpty() ? "" : run + "/"), resumable));
        }
        Object best = trained.get("best_checkpoint_id");
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> saved = (List<Map<String, Object>>) trained.get("checkpoints");
        return best != null ? (UUID) best : (UUID) saved.get(saved.size() - 1).get("checkpoint_id");
    }
}
