package dev.consort.merge;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import org.springframework.stereotype.Component;

import ai.djl.Device;
import dev.consort.checkpoint.CheckpointCatalog;
import dev.consort.checkpoint.CheckpointModels;
import dev.consort.checkpoint.CheckpointProvenance;
import dev.consort.checkpoint.CheckpointUploadService;
import dev.consort.checkpoint.PublishedCheckpoint;
import dev.consort.database.TimeOrderedIds;
import dev.consort.evaluation.EvaluationTable;
import dev.consort.evaluation.ResultsTable;
import dev.consort.job.JobContext;
import dev.consort.merge.weights.MergeCompatibility.MergeInput;
import dev.consort.merge.weights.MergeRecipe;
import dev.consort.merge.weights.WeightMerger;
import dev.consort.storage.BlobStore;
import dev.consort.storage.ScratchDirectory;
import dev.consort.storage.StagedBlob;

/**
 * One weight-space method of a merge job: the experts (and, for task-vector methods, the base) merged tensor by
 * tensor into a new checkpoint, registered with the job as its producer, then evaluated into the results table.
 * A job run again after losing its worker finds the checkpoint its earlier attempt registered and reuses it.
 */
@Component
class WeightSpaceStep {

    private final CheckpointModels models;
    private final CheckpointUploadService checkpoints;
    private final CheckpointCatalog catalog;
    private final BlobStore blobs;
    private final MergeInputs inputs;
    private final EvaluationTable table;
    private final Path scratch;

    WeightSpaceStep(CheckpointModels models, CheckpointUploadService checkpoints, CheckpointCatalog catalog,
            BlobStore blobs, MergeInputs inputs, EvaluationTable table, ScratchDirectory scratch) {
        this.models = models;
        this.checkpoints = checkpoints;
        this.catalog = catalog;
        this.blobs = blobs;
        this.inputs = inputs;
        this.table = table;
        this.scratch = scratch.path();
    }

    /** Merges, stores and evaluates; returns the output entry of the job's result. */
    Map<String, Object> run(JobContext job, MergePlan plan, MergePlan.Method method, Device device,
            ResultsTable results) throws Exception {
        String name = method.displayName() + "-" + TimeOrderedIds.shortForm(job.jobId());
        UUID checkpointId = catalog.findProducedNamed(job.jobId(), name).orElse(null);
        if (checkpointId == null) {
            checkpointId = merge(job, plan, method, name);
        }
        results.addAll(table.checkpoint(job, plan.evaluation(), checkpointId, device, MergeJobHandler.identity(method),
                MergeJobHandler.output("checkpoint", checkpointId)));
        return Map.of("label", method.displayName(), "method", method.method(), "kind", "checkpoint",
                "checkpoint_id", checkpointId);
    }

    private UUID merge(JobContext job, MergePlan plan, MergePlan.Method method, String name) throws Exception {
        MergeRecipe recipe = MergePlanner.recipe(plan, method);
        MergeInput base = recipe.baseModel() == null ? null : inputs.of("base_checkpoint_id", plan.baseCheckpointId());
        List<MergeInput> experts = new ArrayList<>();
        for (int i = 0; i < plan.expertIds().size(); i++) {
            experts.add(inputs.of("expert_ids[" + i + "]", plan.expertIds().get(i)));
        }
        Path file = Files.createTempFile(scratch, "merge-", ".safetensors");
        try {
            WeightMerger.Result merged = WeightMerger.merge(recipe, base, experts, plan.seed(), file,
                    (tensor, done, total) -> job.checkCancelled());
            // Same architecture as every input: the first expert's config.json describes the result too.
            byte[] config = models.checkpoint(plan.expertIds().get(0)).configJson().getBytes(StandardCharsets.UTF_8);
            UUID checkpointId;
            try (InputStream in = Files.newInputStream(file); StagedBlob staged = blobs.stage(in);
                 PublishedCheckpoint weights = checkpoints.publish(config, staged)) {
                checkpointId = job.writeOutput(() -> checkpoints.register(weights, name, new CheckpointProvenance(
                        plan.sharedCheckpointId(), job.jobId(), null, false, plan.expertIds()))).id();
            }
            job.event("merged", method.displayName() + ": " + merged.tensors() + " tensors",
                    Map.of("checkpoint_id", checkpointId, "bytes_read", merged.bytesRead()));
            return checkpointId;
        } finally {
            Files.deleteIfExists(file);
        }
    }

}
