package dev.consort.merge;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.Supplier;

import org.springframework.stereotype.Component;

import ai.djl.Device;
import dev.consort.checkpoint.CheckpointModels;
import dev.consort.database.TimeOrderedIds;
import dev.consort.dataset.DatasetTokens;
import dev.consort.dataset.Split;
import dev.consort.engine.Evaluator;
import dev.consort.engine.Gpt2Model;
import dev.consort.engine.TokenSequence;
import dev.consort.engine.TrainingPlan;
import dev.consort.evaluation.EvaluationTable;
import dev.consort.evaluation.ResultRow;
import dev.consort.evaluation.ResultsTable;
import dev.consort.job.JobContext;
import dev.consort.job.JobFailedException;
import dev.consort.merge.features.Adaptation;
import dev.consort.merge.features.ExpertMlp;
import dev.consort.merge.features.RoutedModel;
import dev.consort.merge.features.RoutingSpec;
import dev.consort.storage.BlobStore;
import dev.consort.storage.PublishedBlob;
import dev.consort.storage.ScratchDirectory;
import dev.consort.storage.StagedBlob;

/**
 * One feature-space method of a merge job: the routed model made from the loaded experts (and base), adapted to
 * the adaptation data by its method (α searched, routers fitted, or neither), stored as a routed model, and
 * evaluated into the results table. Its loss curves are named after the method's label ({@code
 * layer_routing/router_train}).
 */
@Component
class FeatureSpaceStep {

    private final CheckpointModels models;
    private final DatasetTokens datasets;
    private final RoutedModelCatalog routedModels;
    private final BlobStore blobs;
    private final EvaluationTable table;
    private final Path scratch;

    FeatureSpaceStep(CheckpointModels models, DatasetTokens datasets, RoutedModelCatalog routedModels, BlobStore blobs,
            EvaluationTable table, ScratchDirectory scratch) {
        this.models = models;
        this.datasets = datasets;
        this.routedModels = routedModels;
        this.blobs = blobs;
        this.table = table;
        this.scratch = scratch.path();
    }

    /** Makes, adapts, stores and evaluates; returns the output entry of the job's result. */
    Map<String, Object> run(JobContext job, MergePlan plan, MergePlan.Method method, Device device,
            ResultsTable results) throws Exception {
        Map<String, Object> output = new LinkedHashMap<>();
        output.put("label", method.displayName());
        output.put("method", method.method());
        output.put("kind", "routed_model");
        List<Gpt2Model> loaded = new ArrayList<>();
        try {
            Gpt2Model base = plan.baseCheckpointId() == null ? null : load(loaded, plan.baseCheckpointId(), device);
            List<Gpt2Model> experts = new ArrayList<>();
            for (UUID expert : plan.expertIds()) {
                experts.add(load(loaded, expert, device));
            }
            RoutingSpec spec = MergePlanner.routing(plan, method);
            // Learned routers are fitted once per seed (initialisation and windows); what nothing trains, once.
            int seeds = spec.router() != null ? plan.routerSeeds() : 1;
            List<List<ResultRow>> runs = new ArrayList<>();
            List<UUID> stored = new ArrayList<>();
            List<Object> fits = new ArrayList<>();
            for (int s = 0; s < seeds; s++) {
                Map<String, Object> summary = seeds == 1 ? output : new LinkedHashMap<>();
                RoutingSpec seeded = spec.withSeed(spec.seed() + s);
                try (RoutedModel adapted = adapt(job, plan, method, seeded, s, base, experts, summary)) {
                    if (s == 0) {
                        output.put("router_weights", routerWeights(plan, adapted));
                    }
                    UUID id = store(job, plan, method, seeds == 1 ? "" : "-seed-" + s, adapted);
                    stored.add(id);
                    runs.add(table.rows(job, plan.evaluation(), scored(adapted), MergeJobHandler.identity(method),
                            MergeJobHandler.output("routed_model", id)));
                }
                fits.add(summary.get("router_fit"));
            }
            output.put("routed_model_id", stored.get(0));
            if (seeds > 1) {
                output.put("routed_model_ids", stored);
                output.put("router_fits", fits);
            }
            results.addAcrossSeeds(runs);
        } finally {
            loaded.forEach(Gpt2Model::close);
        }
        return output;
    }

    /**
     * Router statistics: each layer's mean weight on each of its experts over the first eval dataset's windows
     * (experts named by model, and by their offset in the window for multi-layer routing).
     */
    private Map<String, Object> routerWeights(MergePlan plan, RoutedModel routed) throws IOException {
        UUID dataset = plan.evaluation().datasetIds().get(0);
        TokenSequence tokens = table.tokens(plan.evaluation(), dataset);
        Map<String, Object> weights = new LinkedHashMap<>();
        weights.put("dataset_id", dataset);
        if (tokens == null) {
            return weights;
        }
        int context = plan.evaluation().contextFor(tokens, routed.shared().config().nPositions());
        if (Evaluator.windowCount(tokens.length(), context, 1) == 0) {
            return weights;
        }
        List<String> experts = new ArrayList<>();
        int span = routed.spec().span();
        for (ExpertMlp expert : routed.expertsAt(0)) {
            String model = expert.member() < plan.expertIds().size() ? "expert " + expert.member() : "base";
            experts.add(span > 1 ? model + " @+" + expert.layer() : model);
        }
        weights.put("experts", experts);
        weights.put("layers", routed.routingWeights(tokens, context, plan.evaluation().maxWindows(),
                plan.evaluation().batchSize()));
        return weights;
    }

    /** A routed model of {@code spec} adapted by its method, router windows drawn from the plan's seed + {@code run}. */
    private RoutedModel adapt(JobContext job, MergePlan plan, MergePlan.Method method, RoutingSpec spec, int run,
            Gpt2Model base, List<Gpt2Model> experts, Map<String, Object> summary) throws Exception {
        RoutedModel routed = RoutedModel.create(spec, base, experts);
        try {
            return spec.method().adapt(routed, adaptation(job, plan, method, routed, run), summary);
        } catch (IllegalArgumentException e) {
            routed.close();
            throw new JobFailedException("invalid_router_training", e.getMessage());
        } catch (Exception | Error e) {
            routed.close();
            throw e;
        }
    }

    private Gpt2Model load(List<Gpt2Model> loaded, UUID checkpoint, Device device) throws Exception {
        Gpt2Model model = models.load(checkpoint, device);
        loaded.add(model);
        return model;
    }

    private static EvaluationTable.ScoredModel scored(RoutedModel routed) {
        return new EvaluationTable.ScoredModel() {
            @Override
            public Gpt2Model shared() {
                return routed.shared();
            }

            @Override
            public Supplier<Gpt2Model.MlpOverride> passes() {
                return routed::newPass;
            }

            @Override
            public Evaluator.Result evaluate(TokenSequence tokens, int context, int maxWindows, int batchSize) {
                return routed.evaluate(tokens, context, maxWindows, batchSize);
            }
        };
    }

    /** The adaptation data and this job's reporting, as the method's adaptation sees them. */
    private Adaptation adaptation(JobContext job, MergePlan plan, MergePlan.Method method, RoutedModel routed, int run)
            throws IOException {
        UUID dataset = plan.adaptationDatasetId();
        TokenSequence train = dataset == null ? null : datasets.sequence(dataset, Split.TRAIN);
        TokenSequence validation = dataset == null ? null : datasets.sequence(dataset, Split.VALIDATION);
        int nPositions = routed.shared().config().nPositions();
        String series = method.displayName() + (run == 0 ? "" : "/seed-" + run) + "/";
        return new Adaptation() {
            @Override
            public TokenSequence train() {
                return train;
            }

            @Override
            public TokenSequence validation() {
                return validation;
            }

            @Override
            public int context(TokenSequence tokens) {
                return plan.evaluation().contextFor(tokens, nPositions);
            }

            @Override
            public int maxWindows() {
                return plan.evaluation().maxWindows();
            }

            @Override
            public int batchSize() {
                return plan.evaluation().batchSize();
            }

            @Override
            public TrainingPlan routerPlan() {
                return plan.routerTraining().withSeed(plan.routerTraining().seed() + run);
            }

            @Override
            public int routerPatience() {
                return plan.routerPatience();
            }

            @Override
            public void loss(String name, long step, long tokens, double value) {
                job.loss(series + name, step, tokens, value);
            }

            @Override
            public void checkStop() {
                job.checkCancelled();
            }
        };
    }

    /** Stores the routed model under the job (replacing an earlier attempt's of the same name). */
    private UUID store(JobContext job, MergePlan plan, MergePlan.Method method, String run, RoutedModel routed)
            throws IOException {
        String name = method.displayName() + run + "-" + TimeOrderedIds.shortForm(job.jobId());
        List<String> expertIds = plan.expertIds().stream().map(UUID::toString).toList();
        String baseId = plan.baseCheckpointId() == null ? null : plan.baseCheckpointId().toString();
        String description = new String(routed.describe(baseId, expertIds).toJson(), StandardCharsets.UTF_8);
        List<UUID> members = new ArrayList<>(plan.expertIds());
        if (routed.spec().includeBase()) {
            members.add(plan.baseCheckpointId());
        }
        String kind = routed.spec().method().name();
        if (routed.routerParameters().isEmpty()) {
            return job.writeOutput(() -> routedModels.store(name, kind, description, null, plan.sharedCheckpointId(),
                    members, job.jobId())).id();
        }
        Path file = Files.createTempFile(scratch, "router-", ".safetensors");
        try {
            routed.writeRouters(file);
            try (InputStream in = Files.newInputStream(file); StagedBlob staged = blobs.stage(in);
                 PublishedBlob router = routedModels.publish(staged)) {
                return job.writeOutput(() -> routedModels.store(name, kind, description, router,
                        plan.sharedCheckpointId(), members, job.jobId())).id();
            }
        } finally {
            Files.deleteIfExists(file);
        }
    }
}
