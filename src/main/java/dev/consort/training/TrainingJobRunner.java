package dev.consort.training;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;

import dev.consort.checkpoint.CheckpointCatalog;
import dev.consort.checkpoint.CheckpointProvenance;
import dev.consort.checkpoint.CheckpointUploadService;
import dev.consort.checkpoint.CheckpointView;
import dev.consort.checkpoint.PublishedCheckpoint;
import dev.consort.dataset.DatasetTokens;
import dev.consort.dataset.Split;
import dev.consort.engine.Evaluator;
import dev.consort.engine.Gpt2Model;
import dev.consort.engine.TokenSequence;
import dev.consort.engine.Trainer;
import dev.consort.engine.TrainingListener;
import dev.consort.engine.TrainingPlan;
import dev.consort.job.JobContext;
import dev.consort.job.JobFailedException;
import dev.consort.job.JobRepository;
import dev.consort.job.JobStoppedException;
import dev.consort.metrics.TrainingMetrics;
import dev.consort.safetensors.DType;
import dev.consort.storage.BlobStore;
import dev.consort.storage.ScratchDirectory;
import dev.consort.storage.StagedBlob;

/**
 * Runs a training job (pretrain or finetune) on the engine and reports it through the job: a loss
 * point per step, validation points, throttled progress events with tokens/s and ETA, a registered
 * checkpoint at every {@code checkpoint_every} steps and at the end (the best by validation loss
 * marked), and the resumable training state every {@code state_every} steps and when its worker
 * shuts down. A job requeued after its worker stopped or died resumes from the last saved state, so
 * every step appears once in its curves.
 */
@Component
public class TrainingJobRunner {

    private static final Logger log = LoggerFactory.getLogger(TrainingJobRunner.class);

    /** At most one progress event per this many milliseconds (every step still gets a loss point). */
    static final long PROGRESS_INTERVAL_MILLIS = 1000;
    static final String VALIDATION = "validation";

    private final DatasetTokens datasets;
    private final CheckpointUploadService checkpoints;
    private final CheckpointCatalog catalog;
    private final JobRepository jobs;
    private final BlobStore blobs;
    private final TrainingMetrics metrics;
    private final Path scratch;

    TrainingJobRunner(DatasetTokens datasets, CheckpointUploadService checkpoints, CheckpointCatalog catalog,
            JobRepository jobs, BlobStore blobs, TrainingMetrics metrics, ScratchDirectory scratch) {
        this.datasets = datasets;
        this.checkpoints = checkpoints;
        this.catalog = catalog;
        this.jobs = jobs;
        this.blobs = blobs;
        this.metrics = metrics;
        this.scratch = scratch.path();
    }

    /**
     * What the caller knows about the model being trained.
     *
     * @param seriesPrefix prepended to the loss series names ({@code train}, {@code validation}), for a
     *                     training run inside another job (e.g. {@code baseline/} in a merge job)
     * @param resumable    whether the run saves and restores the job's training state; a job that trains several
     *                     runs (a baseline with seeds) has one state for all, so its runs are not resumed but
     *                     trained again after a lost worker
     */
    public record Run(Gpt2Model model, byte[] configJson, TrainingPlan plan, TrainingData data, UUID parentCheckpointId,
            String namePrefix, String seriesPrefix, boolean resumable) {

        public Run(Gpt2Model model, byte[] configJson, TrainingPlan plan, TrainingData data, UUID parentCheckpointId,
                String namePrefix) {
            this(model, configJson, plan, data, parentCheckpointId, namePrefix, "", true);
        }
    }

    /**
     * The datasets a run trains on: one, or a DataMix of several whose windows are drawn by weight (null weights:
     * equal). Validation is on the datasets' validation splits, one after another.
     */
    public record TrainingData(List<UUID> datasetIds, List<Double> weights) {

        public TrainingData {
            datasetIds = List.copyOf(datasetIds);
            weights = weights == null ? null : List.copyOf(weights);
        }

        public static TrainingData of(UUID datasetId) {
            return new TrainingData(List.of(datasetId), null);
        }

        /** What is wrong with a mixture's weights for its datasets (null weights are equal), if anything. */
        public static Optional<String> weightProblem(List<UUID> datasetIds, List<Double> weights) {
            if (weights == null) {
                return Optional.empty();
            }
            if (datasetIds == null || weights.size() != datasetIds.size()) {
                return Optional.of("needs one weight per dataset_ids entry");
            }
            if (weights.stream().anyMatch(w -> w == null || !(w > 0) || w.isInfinite())) {
                return Optional.of("every weight must be a positive number");
            }
            return Optional.empty();
        }

        /** The weights as drawn: the given ones, or equal ones. */
        public List<Double> weightList() {
            return Arrays.stream(weightArray()).boxed().toList();
        }

        double[] weightArray() {
            double[] array = new double[datasetIds.size()];
            for (int i = 0; i < array.length; i++) {
                array[i] = weights == null ? 1 : weights.get(i);
            }
            return array;
        }
    }

    public Map<String, Object> run(JobContext job, Run run) throws Exception {
        List<TokenSequence> train = new ArrayList<>();
        List<TokenSequence> validations = new ArrayList<>();
        for (UUID dataset : run.data().datasetIds()) {
            TokenSequence tokens = datasets.sequence(dataset, Split.TRAIN);
            if (tokens == null) {
                throw new JobFailedException("dataset_too_small", "dataset " + dataset + " has no training tokens");
            }
            train.add(tokens);
            TokenSequence held = datasets.sequence(dataset, Split.VALIDATION);
            if (held != null) {
                validations.add(held);
            }
        }
        TokenSequence validation = validations.size() == 1 && train.size() == 1 ? validations.get(0)
                : validations.isEmpty() ? null : concatenated(validations, run.plan());
        if (validation != null && Evaluator.windowCount(validation.length(), run.plan().context(), 1) == 0) {
            job.event("warning", "validation split has fewer than context + 1 tokens; training without validation",
                    Map.of("validation_tokens", validation.length(), "context", run.plan().context()));
            validation = null;
        }
        Trainer trainer;
        try {
            trainer = new Trainer(run.model(), run.plan(), train, run.data().weightArray(), validation);
        } catch (IllegalArgumentException e) {
            throw new JobFailedException("invalid_training_settings", e.getMessage());
        }
        try (trainer) {
            if (run.resumable()) {
                restoreSavedState(job, trainer);
            }
            Reporter reporter = new Reporter(job, run, trainer);
            trainer.run(reporter);
            return reporter.finish();
        }
    }

    /**
     * A DataMix run's validation: the first windows' worth of each dataset's validation split ({@code evalWindows}
     * windows each), one after another, so the deterministic windows cover every dataset.
     */
    private static TokenSequence concatenated(List<TokenSequence> splits, TrainingPlan plan) {
        List<int[]> parts = new ArrayList<>();
        int total = 0;
        for (TokenSequence split : splits) {
            int take = (int) Math.min(split.length(), (long) plan.evalWindows() * plan.context() + 1);
            parts.add(split.window(0, take));
            total += take;
        }
        int[] joined = new int[total];
        int at = 0;
        for (int[] part : parts) {
            System.arraycopy(part, 0, joined, at, part.length);
            at += part.length;
        }
        return TokenSequence.of(joined);
    }

    private void restoreSavedState(JobContext job, Trainer trainer) throws IOException {
        Optional<InputStream> saved = job.savedState();
        if (saved.isEmpty()) {
            return;
        }
        Path file = Files.createTempFile(scratch, "state-", ".bin");
        try {
            try (InputStream in = saved.get()) {
                Files.copy(in, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            }
            trainer.restoreState(file);
        } finally {
            Files.deleteIfExists(file);
        }
        job.event("resumed", "resumed from the training state saved at step " + trainer.step(),
                Map.of("step", trainer.step(), "tokens", trainer.tokensSeen()));
    }

    /** The job side of one training run: loss points, progress, checkpoints, state. */
    private final class Reporter implements TrainingListener {
        private final JobContext job;
        private final Run run;
        private final Trainer trainer;
        private long lastProgressMillis;
        private Step lastStep;
        private double lastValidationLoss = Double.NaN;
        /** The step of the newest saved state (restored or written by this run). */
        private int savedStep;

        Reporter(JobContext job, Run run, Trainer trainer) {
            this.job = job;
            this.run = run;
            this.trainer = trainer;
            this.savedStep = trainer.step();
        }

        /**
         * Comes between steps, when every report of the last step is done: a worker shutting down saves
         * the state here, so the next worker resumes from this step rather than the last periodic save.
         */
        @Override
        public void checkStop() {
            try {
                job.checkCancelled();
            } catch (JobStoppedException stopped) {
                if (stopped.reason() == JobStoppedException.Reason.SHUTDOWN && run.resumable()
                        && trainer.step() > savedStep) {
                    saveStateBeforeShutdown();
                }
                throw stopped;
            }
        }

        private void saveStateBeforeShutdown() {
            int step = trainer.step();
            try {
                onStateDue(step, trainer.tokensSeen(), trainer);
                job.event("state_saved", "training state saved at step " + step + " as the worker shuts down",
                        Map.of("step", step, "tokens", trainer.tokensSeen()));
            } catch (IOException | RuntimeException e) {
                // The job is requeued all the same; it resumes from the last periodic save instead.
                log.warn("Could not save the training state of job {} at step {} on shutdown: {}", job.jobId(), step,
                        e.toString());
            }
        }

        @Override
        public void onStep(Step step) {
            long stepTokens = run.plan().tokensPerStep();
            if (step.tokensPerSecond() > 0) {
                metrics.recordStep(java.time.Duration.ofNanos((long) (stepTokens / step.tokensPerSecond() * 1e9)), stepTokens);
            }
            lastStep = step;
            job.loss(run.seriesPrefix() + "train", step.step(), step.tokens(), step.loss());
            long now = System.currentTimeMillis();
            if (now - lastProgressMillis >= PROGRESS_INTERVAL_MILLIS || step.step() == step.steps()) {
                lastProgressMillis = now;
                Map<String, Object> progress = new LinkedHashMap<>();
                progress.put("step", step.step());
                progress.put("steps", step.steps());
                progress.put("tokens", step.tokens());
                progress.put("loss", step.loss());
                progress.put("learning_rate", step.learningRate());
                progress.put("tokens_per_second", step.tokensPerSecond());
                progress.put("eta_seconds", step.etaSeconds());
                if (!Double.isNaN(lastValidationLoss)) {
                    progress.put("validation_loss", lastValidationLoss);
                }
                job.progress(progress);
            }
        }

        @Override
        public void onValidation(int step, long tokens, Evaluator.Result result, boolean best) {
            lastValidationLoss = result.loss();
            job.loss(run.seriesPrefix() + VALIDATION, step, tokens, result.loss());
        }

        @Override
        public void onCheckpoint(int step, long tokens, Gpt2Model model) throws IOException {
            try {
                job.checkCancelled();
            } catch (JobStoppedException stopped) {
                // Shutting down: register this step's checkpoint all the same, then stop (and save the
                // state) at the next checkStop, so the resumed job does not skip this checkpoint.
                if (stopped.reason() != JobStoppedException.Reason.SHUTDOWN) {
                    throw stopped;
                }
            }
            // A resumed job may reach a step whose checkpoint its earlier attempt already registered (by name: a job
            // training several runs has a checkpoint of each at the same step).
            UUID registered = catalog.findProducedNamed(job.jobId(), checkpointName(step))
                    .orElseGet(() -> register(step, model).id());
            job.event("checkpoint", "checkpoint saved at step " + step,
                    Map.of("checkpoint_id", registered, "step", step, "tokens", tokens));
        }

        private CheckpointView register(int step, Gpt2Model model) {
            try {
                Path file = Files.createTempFile(scratch, "checkpoint-", ".safetensors");
                try {
                    model.save(file, DType.F32);
                    try (InputStream in = Files.newInputStream(file); StagedBlob staged = blobs.stage(in);
                         PublishedCheckpoint weights = checkpoints.publish(run.configJson(), staged)) {
                        return job.writeOutput(() -> checkpoints.register(weights, checkpointName(step),
                                new CheckpointProvenance(run.parentCheckpointId(), job.jobId(), (long) step, false)));
                    }
                } finally {
                    Files.deleteIfExists(file);
                }
            } catch (IOException e) {
                throw new java.io.UncheckedIOException("could not save the checkpoint of step " + step, e);
            }
        }

        private String checkpointName(int step) {
            return run.namePrefix() + "-step-" + step;
        }

        @Override
        public void onStateDue(int step, long tokens, Trainer trainer) throws IOException {
            if (!run.resumable()) {
                return;
            }
            Path file = Files.createTempFile(scratch, "state-", ".bin");
            try {
                trainer.saveState(file);
                try (InputStream in = Files.newInputStream(file)) {
                    job.saveState(in);
                }
                savedStep = step;
            } finally {
                Files.deleteIfExists(file);
            }
        }

        /**
         * The result, built from what is stored rather than remembered, so checkpoints registered by an
         * earlier attempt of a resumed job count too: the best is the one with the lowest validation
         * loss measured at its step.
         */
        Map<String, Object> finish() throws IOException {
            Map<Long, Double> validationByStep = new java.util.HashMap<>();
            jobs.losses(job.jobId(), run.seriesPrefix() + VALIDATION).series().forEach(series ->
                    series.points().forEach(p -> validationByStep.put(p.step(), p.value())));
            List<Map<String, Object>> saved = new ArrayList<>();
            UUID best = null;
            double bestLoss = Double.POSITIVE_INFINITY;
            // Only this run's checkpoints: a merge job also produces merged ones (no step).
            for (var checkpoint : catalog.produced(job.jobId())) {
                if (checkpoint.step() == null || !checkpoint.name().startsWith(run.namePrefix() + "-step-")) {
                    continue;
                }
                Double validation = validationByStep.get(checkpoint.step());
                Map<String, Object> entry = new LinkedHashMap<>();
                entry.put("checkpoint_id", checkpoint.id());
                entry.put("step", checkpoint.step());
                entry.put("validation_loss", validation);
                saved.add(entry);
                if (validation != null && validation < bestLoss) {
                    bestLoss = validation;
                    best = checkpoint.id();
                }
            }
            if (best != null) {
                UUID marked = best;
                job.writeOutput(() -> {
                    catalog.markBest(job.jobId(), run.namePrefix() + "-step-", marked);
                    return null;
                });
            }
            for (Map<String, Object> entry : saved) {
                entry.put("best", entry.get("checkpoint_id").equals(best));
            }
            Map<String, Object> result = new LinkedHashMap<>();
            result.put("steps", trainer.step());
            result.put("tokens", trainer.tokensSeen());
            if (lastStep != null) {
                result.put("final_train_loss", lastStep.loss());
            }
            if (!Double.isNaN(lastValidationLoss)) {
                result.put("final_validation_loss", lastValidationLoss);
            }
            result.put("best_checkpoint_id", best);
            result.put("checkpoints", saved);
            return result;
        }
    }

}
