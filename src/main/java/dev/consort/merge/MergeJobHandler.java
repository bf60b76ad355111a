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

import org.springframework.stereotype.Component;

import ai.djl.Device;
import dev.consort.checkpoint.Checkpoint;
import dev.consort.checkpoint.CheckpointCatalog;
import dev.consort.checkpoint.CheckpointModels;
import dev.consort.checkpoint.CheckpointProvenance;
import dev.consort.checkpoint.CheckpointUploadService;
import dev.consort.dataset.DatasetTokens;
import dev.consort.dataset.Split;
import dev.consort.engine.Devices;
import dev.consort.engine.Evaluator;
import dev.consort.engine.Gpt2Model;
import dev.consort.engine.TokenSequence;
import dev.consort.engine.TrainingListener;
import dev.consort.engine.TrainingPlan;
import dev.consort.job.InvalidSpecException;
import dev.consort.job.JobContext;
import dev.consort.job.JobFailedException;
import dev.consort.job.JobHandler;
import dev.consort.merge.MergeSpec.MethodRequest;
import dev.consort.merge.routing.AlphaSearch;
import dev.consort.merge.routing.RoutedModel;
import dev.consort.merge.routing.RouterFitListener;
import dev.consort.merge.routing.RouterFitting;
import dev.consort.merge.routing.RoutingMethod;
import dev.consort.merge.routing.RoutingSpec;
import dev.consort.merge.weights.InvalidMergeException;
import dev.consort.merge.weights.MergeCompatibility.MergeInput;
import dev.consort.merge.weights.MergeCompatibility;
import dev.consort.merge.weights.MergeProblem;
import dev.consort.merge.weights.MergeRecipe;
import dev.consort.merge.weights.WeightMergeRequest;
import dev.consort.merge.weights.WeightMerger;
import dev.consort.storage.BlobStore;
import dev.consort.storage.ScratchDirectory;
import dev.consort.storage.StagedBlob;
import dev.consort.training.TrainingJobRunner;
import dev.consort.training.TrainingPlans;
import dev.consort.web.ApiProblem.FieldError;

/**
 * {@code merge}: runs each requested method on the experts — weight-space methods into a checkpoint,
 * feature-space ones into a routed model (α searched or routers fitted on the adaptation data) — and
 * evaluates every output, the experts and the base on each eval dataset, into one results table (the
 * paper's Figure 4). With a {@code baseline}, the base (or first expert) is also fine-tuned on the
 * adaptation data and evaluated the same way (Table 1).
 */
@Component
class MergeJobHandler implements JobHandler<MergeSpec, MergeSpec> {

    static final int DEFAULT_CONTEXT = 256;
    static final int DEFAULT_MAX_WINDOWS = 64;
    static final int DEFAULT_BATCH = 8;
    static final int DEFAULT_ROUTER_STEPS = 200;
    static final double BASELINE_LEARNING_RATE = 8e-5;

    private final CheckpointModels models;
    private final CheckpointUploadService checkpoints;
    private final CheckpointCatalog catalog;
    private final RoutedModelCatalog routedModels;
    private final DatasetTokens datasets;
    private final BlobStore blobs;
    private final TrainingJobRunner training;
    private final Path scratch;

    MergeJobHandler(CheckpointModels models, CheckpointUploadService checkpoints, CheckpointCatalog catalog,
            RoutedModelCatalog routedModels,
            DatasetTokens datasets, BlobStore blobs, TrainingJobRunner training, ScratchDirectory scratch) {
        this.models = models;
        this.checkpoints = checkpoints;
        this.catalog = catalog;
        this.routedModels = routedModels;
        this.datasets = datasets;
        this.blobs = blobs;
        this.training = training;
        this.scratch = scratch.path();
    }

    @Override
    public String type() {
        return "merge";
    }

    @Override
    public Class<MergeSpec> specType() {
        return MergeSpec.class;
    }

    @Override
    public Class<MergeSpec> planType() {
        return MergeSpec.class;
    }

    /**
     * Everything that can be known before running: method names and parameters, that the models share
     * an architecture and, where the method assumes it, descend from the base (same non-MLP tensors).
     */
    @Override
    public MergeSpec plan(MergeSpec spec) throws InvalidSpecException {
        List<FieldError> errors = new ArrayList<>();
        List<MethodRequest> requests = spec.requests();
        boolean routing = false;
        boolean taskVectors = false;
        Checkpoint shared = models.checkpoint(MergeRequests.shared(spec));
        for (int i = 0; i < requests.size(); i++) {
            MethodRequest request = requests.get(i);
            String prefix = MergeRequests.prefix(spec, i);
            if (!MergeRequests.methodNames().contains(request.method())) {
                errors.add(new FieldError(prefix + "method", "unknown method '" + request.method() + "'; one of "
                        + MergeRequests.methodNames()));
                continue;
            }
            if (MergeRequests.isRouting(request.method())) {
                routing = true;
                RoutingSpec routingSpec = MergeRequests.routingSpec(spec, request, prefix, seed(spec), errors);
                if (routingSpec != null) {
                    checkRouting(spec, routingSpec, request, prefix, shared, errors);
                }
            } else {
                WeightMergeRequest weights = MergeRequests.weightRequest(spec, request, prefix, errors);
                try {
                    MergeRecipe recipe = MergeRecipe.of(weights);
                    taskVectors |= recipe.baseModel() != null;
                } catch (InvalidMergeException e) {
                    e.problems().forEach(p -> errors.add(MergeRequests.specField(prefix, p)));
                }
            }
        }
        if (errors.isEmpty()) {
            checkModels(spec, routing, taskVectors, errors);
        }
        InvalidSpecException.throwIfAny(errors);
        return spec;
    }

    private void checkRouting(MergeSpec spec, RoutingSpec routing, MethodRequest request, String prefix,
            Checkpoint shared, List<FieldError> errors) {
        int members = spec.expertIds().size() + (routing.includeBase() ? 1 : 0);
        if (routing.method() == RoutingMethod.ACTIVATION_INTERPOLATION && spec.expertIds().size() != 2) {
            errors.add(new FieldError("expert_ids", "activation_interpolation mixes exactly two experts"));
        }
        if (routing.includeBase() && spec.baseCheckpointId() == null) {
            errors.add(new FieldError(prefix + "parameters.include_base", "needs base_checkpoint_id"));
        }
        if (routing.span() > shared.nLayer()) {
            errors.add(new FieldError(prefix + "parameters.span", "is larger than n_layer (" + shared.nLayer() + ")"));
        }
        if (routing.topK() != null && routing.topK() > members) {
            errors.add(new FieldError(prefix + "parameters.top_k", "is larger than the number of experts (" + members + ")"));
        }
        boolean fixedAlpha = request.parameters() != null && request.parameters().containsKey("alpha");
        if (spec.adaptationDatasetId() == null && !fixedAlpha) {
            errors.add(new FieldError("adaptation_dataset_id", request.method()
                    + (routing.method().routed() ? " fits its routers" : " searches α") + " on the adaptation data"));
        }
    }

    /** Same architecture everywhere; experts equal to the shared model outside the MLPs where that is assumed. */
    private void checkModels(MergeSpec spec, boolean routing, boolean taskVectors, List<FieldError> errors) {
        try {
            List<MergeInput> inputs = new ArrayList<>();
            MergeInput base = spec.baseCheckpointId() == null ? null : input("base_checkpoint_id", spec.baseCheckpointId());
            if (base != null) {
                inputs.add(base);
            }
            List<MergeInput> experts = new ArrayList<>();
            for (int i = 0; i < spec.expertIds().size(); i++) {
                experts.add(input("expert_ids[" + i + "]", spec.expertIds().get(i)));
            }
            inputs.addAll(experts);
            List<MergeProblem> problems = MergeCompatibility.checkArchitecture(inputs);
            if (problems.isEmpty() && (routing || taskVectors)) {
                MergeInput origin = base != null ? base : experts.get(0);
                List<MergeInput> others = base != null ? experts : experts.subList(1, experts.size());
                MergeCompatibility.checkDescent(origin, others).ifPresent(problems::add);
            }
            problems.forEach(p -> errors.add(new FieldError(p.field(), p.message())));
        } catch (IOException e) {
            throw new java.io.UncheckedIOException("could not read the checkpoints to compare them", e);
        }
    }

    private MergeInput input(String field, UUID checkpointId) throws IOException {
        Checkpoint checkpoint = models.checkpoint(checkpointId);
        try {
            return new MergeInput(field, models.config(checkpoint), blobs.localCopy(checkpoint.weightsSha256()));
        } catch (dev.consort.engine.Gpt2FormatException e) {
            throw new IOException(e);
        }
    }

    private static long seed(MergeSpec spec) {
        return spec.seed() == null ? 0 : spec.seed();
    }

    @Override
    public Object run(MergeSpec spec, JobContext job) throws Exception {
        Device device = Devices.parse(job.device());
        Checkpoint shared = models.checkpoint(MergeRequests.shared(spec));
        Evaluation evaluation = Evaluation.of(spec, shared.nPositions());
        List<Map<String, Object>> rows = new ArrayList<>();
        List<Map<String, Object>> outputs = new ArrayList<>();

        // The experts and the base alone, on the same windows: the numbers every merge is read against.
        if (spec.baseCheckpointId() != null) {
            rows.addAll(evaluateCheckpoint(job, spec.baseCheckpointId(), "base", "base", Map.of(), evaluation, device));
        }
        for (int i = 0; i < spec.expertIds().size(); i++) {
            rows.addAll(evaluateCheckpoint(job, spec.expertIds().get(i), "expert", "expert " + i, Map.of(),
                    evaluation, device));
        }

        List<MethodRequest> requests = spec.requests();
        for (int i = 0; i < requests.size(); i++) {
            job.checkCancelled();
            MethodRequest request = requests.get(i);
            String prefix = MergeRequests.prefix(spec, i);
            job.event("method", "running " + request.displayName(), Map.of("method", request.method(), "index", i));
            Map<String, Object> output = MergeRequests.isRouting(request.method())
                    ? routedMerge(job, spec, request, prefix, evaluation, device, rows)
                    : weightMerge(job, spec, request, prefix, evaluation, device, rows);
            outputs.add(output);
            job.progress(Map.of("methods_done", i + 1, "methods", requests.size(), "last", request.displayName()));
        }
        if (spec.baseline() != null) {
            outputs.add(baseline(job, spec, evaluation, device, rows));
        }
        Map<String, Object> result = new LinkedHashMap<>();
        result.put("rows", rows);
        result.put("outputs", outputs);
        return result;
    }

    /** A weight-space merge, streamed tensor by tensor into a new checkpoint, then evaluated. */
    private Map<String, Object> weightMerge(JobContext job, MergeSpec spec, MethodRequest request, String prefix,
            Evaluation evaluation, Device device, List<Map<String, Object>> rows) throws Exception {
        List<FieldError> errors = new ArrayList<>();
        MergeRecipe recipe = MergeRecipe.of(MergeRequests.weightRequest(spec, request, prefix, errors));
        MergeInput base = recipe.baseModel() == null ? null : input("base_checkpoint_id", spec.baseCheckpointId());
        List<MergeInput> experts = new ArrayList<>();
        for (int i = 0; i < spec.expertIds().size(); i++) {
            experts.add(input("expert_ids[" + i + "]", spec.expertIds().get(i)));
        }
        String name = request.displayName() + "-" + shortId(job.jobId());
        UUID parent = spec.baseCheckpointId() != null ? spec.baseCheckpointId() : spec.expertIds().get(0);
        UUID checkpointId = catalog.findProducedNamed(job.jobId(), name).orElse(null);
        if (checkpointId == null) {
            Path file = Files.createTempFile(scratch, "merge-", ".safetensors");
            try {
                WeightMerger.Result merged = WeightMerger.merge(recipe, base, experts, seed(spec), file,
                        (tensor, done, total) -> job.checkCancelled());
                // Same architecture as every input: the first expert's config.json describes the result too.
                byte[] config = models.checkpoint(spec.expertIds().get(0)).configJson().getBytes(StandardCharsets.UTF_8);
                try (InputStream in = Files.newInputStream(file); StagedBlob staged = blobs.stage(in)) {
                    checkpointId = checkpoints.register(config, staged, name,
                            new CheckpointProvenance(parent, job.jobId(), null, false, spec.expertIds())).id();
                }
                job.event("merged", request.displayName() + ": " + merged.tensors() + " tensors",
                        Map.of("checkpoint_id", checkpointId, "bytes_read", merged.bytesRead()));
            } finally {
                Files.deleteIfExists(file);
            }
        }
        rows.addAll(evaluateCheckpoint(job, checkpointId, request.method(), request.displayName(),
                MergeRequests.describe(request), evaluation, device));
        return Map.of("label", request.displayName(), "method", request.method(), "kind", "checkpoint",
                "checkpoint_id", checkpointId);
    }

    /** A feature-space merge: α searched, or routers fitted, on the adaptation data; stored and evaluated. */
    private Map<String, Object> routedMerge(JobContext job, MergeSpec spec, MethodRequest request, String prefix,
            Evaluation evaluation, Device device, List<Map<String, Object>> rows) throws Exception {
        List<FieldError> errors = new ArrayList<>();
        RoutingSpec routing = MergeRequests.routingSpec(spec, request, prefix, seed(spec), errors);
        Map<String, Object> output = new LinkedHashMap<>();
        output.put("label", request.displayName());
        output.put("method", request.method());
        output.put("kind", "routed_model");
        List<Gpt2Model> loaded = new ArrayList<>();
        try {
            Gpt2Model base = spec.baseCheckpointId() == null ? null : track(loaded, models.load(spec.baseCheckpointId(), device));
            List<Gpt2Model> experts = new ArrayList<>();
            for (UUID expert : spec.expertIds()) {
                experts.add(track(loaded, models.load(expert, device)));
            }
            TokenSequence adaptTrain = spec.adaptationDatasetId() == null ? null
                    : datasets.sequence(spec.adaptationDatasetId(), Split.TRAIN);
            TokenSequence adaptValidation = spec.adaptationDatasetId() == null ? null
                    : datasets.sequence(spec.adaptationDatasetId(), Split.VALIDATION);
            if (routing.method() == RoutingMethod.ACTIVATION_INTERPOLATION) {
                List<Double> grid = MergeRequests.alphaGrid(request.parameters() == null ? Map.of() : request.parameters(),
                        prefix, errors);
                if (grid.size() > 1) {
                    TokenSequence data = adaptValidation != null ? adaptValidation : adaptTrain;
                    AlphaSearch.Result search = AlphaSearch.search(base, experts.get(0), experts.get(1), grid, data,
                            evaluation.contextFor(data), evaluation.maxWindows(), evaluation.batchSize(),
                            new AlphaSearch.Listener() {
                                @Override
                                public void onPoint(AlphaSearch.Point point, int index, int points) {
                                    job.loss(request.displayName() + "/alpha", index, Math.round(point.alpha() * 1000),
                                            point.result().loss());
                                }

                                @Override
                                public void checkStop() {
                                    job.checkCancelled();
                                }
                            });
                    routing = search.bestSpec();
                    List<Map<String, Object>> curve = new ArrayList<>();
                    search.curve().forEach(p -> curve.add(Map.of("alpha", p.alpha(), "loss", p.result().loss())));
                    output.put("alpha_curve", curve);
                }
                output.put("alpha", routing.alpha());
            }
            try (RoutedModel routed = RoutedModel.create(routing, base, experts)) {
                if (routing.method().routed()) {
                    output.put("router_fit", fitRouters(job, spec, request, routed, adaptTrain, adaptValidation));
                }
                UUID stored = store(job, spec, request, routed);
                output.put("routed_model_id", stored);
                for (UUID dataset : evaluation.datasets()) {
                    job.checkCancelled();
                    TokenSequence tokens = evaluation.tokens(datasets, dataset);
                    Evaluator.Result result = routed.evaluate(tokens, evaluation.contextFor(tokens),
                            evaluation.maxWindows(), evaluation.batchSize());
                    rows.add(row(request.method(), request.displayName(), MergeRequests.describe(request), dataset,
                            evaluation.splitOf(datasets, dataset), result, "routed_model", stored));
                }
            }
        } finally {
            for (Gpt2Model model : loaded) {
                model.close();
            }
        }
        return output;
    }

    private Map<String, Object> fitRouters(JobContext job, MergeSpec spec, MethodRequest request, RoutedModel routed,
            TokenSequence train, TokenSequence validation) throws InterruptedException {
        MergeSpec.RouterTraining settings = spec.routerTraining();
        int steps = settings != null && settings.steps() != null ? settings.steps() : DEFAULT_ROUTER_STEPS;
        int nPositions = routed.shared().config().nPositions();
        TrainingPlan.Builder plan = RouterFitting.plan(steps)
                .batchSize(settings != null && settings.batchSize() != null ? settings.batchSize() : DEFAULT_BATCH)
                .context(settings != null && settings.context() != null ? settings.context()
                        : Math.min(DEFAULT_CONTEXT, nPositions))
                .evalEvery(settings != null && settings.evalEvery() != null ? settings.evalEvery() : Math.max(1, steps / 10))
                .evalWindows(settings != null && settings.evalWindows() != null ? settings.evalWindows() : 32)
                .seed(seed(spec));
        if (settings != null && settings.learningRate() != null) {
            plan.learningRate(settings.learningRate());
        }
        String series = request.displayName() + "/router_";
        try {
            RouterFitting.Result fit = RouterFitting.fit(routed, plan.build(), train, validation, new RouterFitListener() {
                @Override
                public void onStep(TrainingListener.Step step) {
                    job.loss(series + "train", step.step(), step.tokens(), step.loss());
                }

                @Override
                public void onValidation(int step, long tokens, Evaluator.Result result, boolean best) {
                    job.loss(series + "validation", step, tokens, result.loss());
                }

                @Override
                public void checkStop() {
                    job.checkCancelled();
                }
            });
            Map<String, Object> summary = new LinkedHashMap<>();
            summary.put("steps", fit.steps());
            summary.put("best_step", fit.bestStep());
            summary.put("best_validation_loss", fit.bestValidationLoss());
            summary.put("last_train_loss", fit.lastLoss());
            return summary;
        } catch (IllegalArgumentException e) {
            throw new JobFailedException("invalid_router_training", e.getMessage());
        }
    }

    private UUID store(JobContext job, MergeSpec spec, MethodRequest request, RoutedModel routed) throws IOException {
        String name = request.displayName() + "-" + shortId(job.jobId());
        List<String> expertIds = spec.expertIds().stream().map(UUID::toString).toList();
        String baseId = spec.baseCheckpointId() == null ? null : spec.baseCheckpointId().toString();
        String description = new String(routed.describe(baseId, expertIds).toJson(), StandardCharsets.UTF_8);
        UUID shared = MergeRequests.shared(spec);
        List<UUID> members = new ArrayList<>(spec.expertIds());
        if (routed.spec().includeBase()) {
            members.add(spec.baseCheckpointId());
        }
        if (routed.routerParameters().isEmpty()) {
            return routedModels.store(name, routed.spec().method().wireName(), description, null, shared, members,
                    job.jobId()).id();
        }
        Path file = Files.createTempFile(scratch, "router-", ".safetensors");
        try {
            routed.writeRouters(file);
            try (InputStream in = Files.newInputStream(file); StagedBlob staged = blobs.stage(in)) {
                return routedModels.store(name, routed.spec().method().wireName(), description, staged, shared, members,
                        job.jobId()).id();
            }
        } finally {
            Files.deleteIfExists(file);
        }
    }

    /** The paper's baseline: the base fine-tuned directly on the adaptation data (all weights, lr 8e-5). */
    private Map<String, Object> baseline(JobContext job, MergeSpec spec, Evaluation evaluation, Device device,
            List<Map<String, Object>> rows) throws Exception {
        MergeSpec.FinetuneBaseline finetune = spec.baseline().finetune();
        UUID start = MergeRequests.shared(spec);
        Checkpoint checkpoint = models.checkpoint(start);
        TrainingPlan.Trainable trainable = "mlp".equals(finetune.trainable())
                ? TrainingPlan.Trainable.MLP : TrainingPlan.Trainable.ALL;
        TrainingPlan plan = TrainingPlans.resolve(finetune.training(), checkpoint.nPositions(), BASELINE_LEARNING_RATE,
                trainable);
        Map<String, Object> trained;
        try (Gpt2Model model = models.load(start, device)) {
            trained = training.run(job, new TrainingJobRunner.Run(model, checkpoint.configJson().getBytes(StandardCharsets.UTF_8),
                    plan, spec.adaptationDatasetId(), start, "baseline-" + shortId(job.jobId()), "baseline/"));
        }
        Object best = trained.get("best_checkpoint_id");
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> saved = (List<Map<String, Object>>) trained.get("checkpoints");
        UUID finetuned = best != null ? (UUID) best : (UUID) saved.get(saved.size() - 1).get("checkpoint_id");
        Map<String, Object> parameters = new LinkedHashMap<>();
        parameters.put("trainable", trainable.name().toLowerCase());
        parameters.put("learning_rate", plan.learningRate());
        parameters.put("steps", plan.steps());
        rows.addAll(evaluateCheckpoint(job, finetuned, "finetune_baseline", "finetune baseline", parameters,
                evaluation, device));
        return Map.of("label", "finetune baseline", "method", "finetune_baseline", "kind", "checkpoint",
                "checkpoint_id", finetuned);
    }

    private List<Map<String, Object>> evaluateCheckpoint(JobContext job, UUID checkpointId, String method, String label,
            Map<String, Object> parameters, Evaluation evaluation, Device device) throws Exception {
        List<Map<String, Object>> rows = new ArrayList<>();
        try (Gpt2Model model = models.load(checkpointId, device)) {
            for (UUID dataset : evaluation.datasets()) {
                job.checkCancelled();
                TokenSequence tokens = evaluation.tokens(datasets, dataset);
                Evaluator.Result result = Evaluator.evaluate(model, tokens, evaluation.contextFor(tokens),
                        evaluation.maxWindows(), evaluation.batchSize());
                rows.add(row(method, label, parameters, dataset, evaluation.splitOf(datasets, dataset), result,
                        "checkpoint", checkpointId));
            }
        }
        return rows;
    }

    private static Map<String, Object> row(String method, String label, Map<String, Object> parameters, UUID dataset,
            Split split, Evaluator.Result result, String outputKind, UUID outputId) {
        Map<String, Object> row = new LinkedHashMap<>();
        row.put("method", method);
        row.put("label", label);
        row.put("parameters", parameters);
        row.put("dataset_id", dataset);
        row.put("split", split.wireName());
        row.put("loss", result.loss());
        row.put("tokens", result.tokens());
        row.put("output_kind", outputKind);
        row.put("output_id", outputId);
        return row;
    }

    private static Gpt2Model track(List<Gpt2Model> loaded, Gpt2Model model) {
        loaded.add(model);
        return model;
    }

    static String shortId(UUID id) {
        String text = id.toString();
        return text.substring(text.length() - 8);
    }

    /** How outputs are evaluated: which datasets, which split, how many windows of what context. */
    record Evaluation(List<UUID> datasets, Split split, Integer context, int maxWindows, int batchSize, int nPositions) {

        /** The split to evaluate on; null: validation, or train for a dataset that has no validation split. */
        static Evaluation of(MergeSpec spec, int nPositions) {
            MergeSpec.Evaluation e = spec.evaluation();
            Split split = e == null || e.split() == null ? null : "train".equals(e.split()) ? Split.TRAIN : Split.VALIDATION;
            return new Evaluation(datasetsOf(spec), split, e == null ? null : e.context(),
                    e != null && e.maxWindows() != null ? e.maxWindows() : DEFAULT_MAX_WINDOWS,
                    e != null && e.batchSize() != null ? e.batchSize() : DEFAULT_BATCH, nPositions);
        }

        /** The eval datasets, or the adaptation dataset when none are named. */
        static List<UUID> datasetsOf(MergeSpec spec) {
            if (spec.evalDatasetIds() != null && !spec.evalDatasetIds().isEmpty()) {
                return spec.evalDatasetIds();
            }
            return spec.adaptationDatasetId() == null ? List.of() : List.of(spec.adaptationDatasetId());
        }

        Split splitOf(DatasetTokens datasets, UUID dataset) {
            if (split != null) {
                return split;
            }
            return datasets.describe(dataset, Split.VALIDATION).isEmpty() ? Split.TRAIN : Split.VALIDATION;
        }

        TokenSequence tokens(DatasetTokens datasets, UUID dataset) throws IOException {
            Split used = splitOf(datasets, dataset);
            TokenSequence tokens = datasets.sequence(dataset, used);
            if (tokens == null || Evaluator.windowCount(tokens.length(), contextFor(tokens), maxWindows) == 0) {
                throw new JobFailedException("dataset_too_small", "the " + used.wireName() + " split of dataset "
                        + dataset + " is too short for one evaluation window");
            }
            return tokens;
        }

        /** The context: as asked, else 256 or what the data and the model allow. */
        int contextFor(TokenSequence tokens) {
            if (context != null) {
                return context;
            }
            long fits = tokens == null ? DEFAULT_CONTEXT : tokens.length() - 1;
            return (int) Math.max(2, Math.min(Math.min(DEFAULT_CONTEXT, nPositions), fits));
        }
    }

}
