package dev.consort.sweep;

import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;

import org.springframework.stereotype.Component;

import ai.djl.Device;
import dev.consort.checkpoint.Checkpoint;
import dev.consort.checkpoint.CheckpointCatalog;
import dev.consort.checkpoint.CheckpointModels;
import dev.consort.cka.CkaEstimator;
import dev.consort.cka.CkaMatrix;
import dev.consort.cka.LayerSimilarity;
import dev.consort.dataset.DatasetTokens;
import dev.consort.dataset.Split;
import dev.consort.engine.Devices;
import dev.consort.engine.Evaluator;
import dev.consort.engine.Gpt2Model;
import dev.consort.engine.MemoryEstimate;
import dev.consort.engine.TokenSequence;
import dev.consort.evaluation.EvaluationPlan;
import dev.consort.evaluation.Interval;
import dev.consort.job.InvalidSpecException;
import dev.consort.job.JobContext;
import dev.consort.job.JobFailedException;
import dev.consort.job.JobHandler;
import dev.consort.job.JobRepository;
import dev.consort.job.JobView;
import dev.consort.job.spec.JobBudgets;
import dev.consort.job.spec.JobDefaults;
import dev.consort.merge.MergePlan;
import dev.consort.merge.MergePlanner;
import dev.consort.merge.features.FeatureMergeMethod;
import dev.consort.merge.features.FeatureMergeMethods;
import dev.consort.merge.weights.MergeProblem;
import dev.consort.merge.weights.WeightMergeMethods;
import dev.consort.web.ApiProblem.FieldError;

/**
 * {@code sweep} (the paper's Figure 3): at step 0 (the runs' common base as both experts) and at every step both
 * fine-tuning runs saved a checkpoint, each expert's own loss, the merge's loss ({@link StepMerge}) and its gain
 * over the better expert, paired over the same windows with a 95% interval, and the specialists' CKA on the
 * adaptation and the reference data. The critical step, where the merge loss is lowest, comes with a bootstrap
 * interval and a verdict on whether the minimum is interior ({@link CriticalStep}).
 */
@Component
class SweepJobHandler implements JobHandler<SweepSpec, SweepPlan> {

    private final JobRepository jobs;
    private final CheckpointCatalog catalog;
    private final CheckpointModels models;
    private final DatasetTokens datasets;
    private final StepMerge merges;
    private final JobBudgets budgets;

    SweepJobHandler(JobRepository jobs, CheckpointCatalog catalog, CheckpointModels models, DatasetTokens datasets,
            StepMerge merges, JobBudgets budgets) {
        this.jobs = jobs;
        this.catalog = catalog;
        this.models = models;
        this.datasets = datasets;
        this.merges = merges;
        this.budgets = budgets;
    }

    @Override
    public String type() {
        return "sweep";
    }

    @Override
    public Class<SweepSpec> specType() {
        return SweepSpec.class;
    }

    @Override
    public Class<SweepPlan> planType() {
        return SweepPlan.class;
    }

    @Override
    public SweepPlan plan(SweepSpec spec) throws InvalidSpecException {
        List<FieldError> errors = new ArrayList<>();
        for (var run : List.of(Map.entry("finetune_job_a_id", spec.finetuneJobAId()),
                Map.entry("finetune_job_b_id", spec.finetuneJobBId()))) {
            JobView job = jobs.find(run.getValue()).orElse(null);
            if (job == null || !job.type().equals("finetune") || !job.status().equals("succeeded")) {
                errors.add(new FieldError(run.getKey(), "must name a succeeded finetune job"));
            }
        }
        InvalidSpecException.throwIfAny(errors);
        List<SweepPlan.Step> steps = sharedSteps(spec);
        if (steps.isEmpty()) {
            throw new InvalidSpecException("finetune_job_b_id", "the two runs saved no checkpoint at a common step");
        }
        Checkpoint first = models.checkpoint(steps.get(0).a());
        UUID base = first.parentId();
        if (base != null && base.equals(models.checkpoint(steps.get(0).b()).parentId())) {
            steps.add(0, new SweepPlan.Step(0, base, base));
        } else {
            base = null;
        }
        MergePlan.Method method = new MergePlan.Method(spec.method() == null ? "activation_interpolation" : spec.method(),
                null, spec.parameters(), spec.modelParameters(), false);
        method = checkMethod(method, base, first, errors);
        int layers = first.nLayer();
        if (spec.layer() != null && spec.layer() >= layers) {
            errors.add(new FieldError("layer", "must be below n_layer (" + layers + ")"));
        }
        var evaluation = spec.evaluation();
        if (evaluation != null && evaluation.context() != null && evaluation.context() > first.nPositions()) {
            errors.add(new FieldError("evaluation.context", "exceeds n_positions (" + first.nPositions() + ")"));
        }
        SweepSpec.Cka cka = spec.cka() != null ? spec.cka() : new SweepSpec.Cka(null, null, null, null, null);
        CkaEstimator estimator = CkaEstimator.named(cka.estimator() == null ? "linear" : cka.estimator());
        boolean mean = cka.pooling() == null || "mean".equals(cka.pooling());
        int ckaWindows = cka.windows() == null ? JobDefaults.CKA_WINDOWS : cka.windows();
        if (estimator == CkaEstimator.DEBIASED && mean && ckaWindows < 4) {
            errors.add(new FieldError("cka.windows", "the debiased estimator needs at least 4 rows; with mean pooling "
                    + "a window is a row"));
        }
        InvalidSpecException.throwIfAny(errors);
        EvaluationPlan windows = new EvaluationPlan(List.of(spec.adaptationDatasetId()),
                evaluation == null || evaluation.split() == null ? null : Split.named(evaluation.split()).orElseThrow(),
                evaluation == null ? null : evaluation.context(),
                evaluation != null && evaluation.maxWindows() != null ? evaluation.maxWindows()
                        : JobDefaults.MERGE_EVAL_WINDOWS,
                evaluation != null && evaluation.batchSize() != null ? evaluation.batchSize() : JobDefaults.BATCH_SIZE);
        // Each step scores both experts and their merge on the same batches.
        InvalidSpecException.throwIfAny(budgets.check(JobBudgets.Estimate.memoryOnly("evaluation.batch_size",
                MemoryEstimate.evaluation(models.config(first), 3, windows.batchSize(),
                        windows.context() != null ? windows.context() : JobDefaults.context(first.nPositions())))));
        return new SweepPlan(steps, base, spec.adaptationDatasetId(), spec.referenceDatasetId(), method, windows,
                new SweepPlan.Cka(cka.representation() == null || "residual".equals(cka.representation()), mean,
                        estimator, ckaWindows, spec.layer() != null ? spec.layer() : layers / 2,
                        Boolean.TRUE.equals(cka.meanOverLayers())),
                spec.seed() == null ? 0 : spec.seed());
    }

    /**
     * The merge a sweep makes at every step: activation interpolation or a weight-space method, whose parameters
     * are checked as a merge job checks them (on the last step's checkpoints). Methods that train routers belong
     * in merge jobs.
     */
    private MergePlan.Method checkMethod(MergePlan.Method method, UUID base, Checkpoint first,
            List<FieldError> errors) {
        List<MergeProblem> problems = new ArrayList<>();
        FeatureMergeMethod feature = FeatureMergeMethods.byName(method.method()).orElse(null);
        if (feature != null) {
            var spec = FeatureMergeMethods.spec(feature, method.parameters(), 0,
                    new FeatureMergeMethod.Members(2, base != null, first.nLayer()), problems);
            if (spec != null && spec.router() != null) {
                problems.add(new MergeProblem("method", method.method() + " fits routers; a sweep merges without "
                        + "training (activation_interpolation or a weight-space method): fit routers in a merge job"));
            }
        } else if (WeightMergeMethods.byName(method.method()).isEmpty()) {
            problems.add(new MergeProblem("method", "unknown method '" + method.method() + "'; activation_interpolation "
                    + "or one of " + WeightMergeMethods.names()));
        } else {
            problems.addAll(MergePlanner.weightSpaceProblems(method, base == null ? null : "base", List.of("a", "b"),
                    models.config(first)));
        }
        problems.forEach(p -> errors.add(new FieldError(p.field().equals("base_model") ? "finetune_job_a_id"
                : MergePlanner.requestField(p.field()), p.message())));
        return new MergePlan.Method(method.method(), null, method.parameters(), method.modelParameters(),
                feature != null);
    }

    /** Both runs' checkpoints at the steps they share, in step order. */
    private List<SweepPlan.Step> sharedSteps(SweepSpec spec) {
        Map<Long, UUID> a = new TreeMap<>();
        catalog.produced(spec.finetuneJobAId()).stream().filter(c -> c.step() != null).forEach(c -> a.put(c.step(), c.id()));
        Map<Long, UUID> b = new TreeMap<>();
        catalog.produced(spec.finetuneJobBId()).stream().filter(c -> c.step() != null && a.containsKey(c.step()))
                .forEach(c -> b.put(c.step(), c.id()));
        List<SweepPlan.Step> steps = new ArrayList<>();
        b.forEach((step, checkpoint) -> steps.add(new SweepPlan.Step(step, a.get(step), checkpoint)));
        return steps;
    }

    @Override
    public Object run(SweepPlan plan, JobContext job) throws Exception {
        Device device = Devices.parse(job.device());
        TokenSequence adaptation = tokens(plan.adaptationDatasetId(), plan.evaluation().split());
        TokenSequence reference = tokens(plan.referenceDatasetId(), plan.evaluation().split());
        List<Map<String, Object>> rows = new ArrayList<>();
        long[] steps = new long[plan.steps().size()];
        double[][] mergeLosses = new double[plan.steps().size()][];
        double[][] expertALosses = new double[plan.steps().size()][];
        double[][] expertBLosses = new double[plan.steps().size()][];
        int context;
        try (Gpt2Model base = plan.base() == null ? null : models.load(plan.base(), device)) {
            context = plan.evaluation().contextFor(adaptation,
                    models.checkpoint(plan.steps().get(plan.steps().size() - 1).a()).nPositions());
            for (int i = 0; i < plan.steps().size(); i++) {
                job.checkCancelled();
                SweepPlan.Step step = plan.steps().get(i);
                Map<String, Object> row = step(job, plan, step, base, adaptation, reference, context, device);
                steps[i] = step.step();
                mergeLosses[i] = (double[]) row.remove("merge_window_losses");
                expertALosses[i] = (double[]) row.remove("expert_a_window_losses");
                expertBLosses[i] = (double[]) row.remove("expert_b_window_losses");
                rows.add(row);
                job.loss("merge_loss", step.step(), step.step(), (double) row.get("merge_loss"));
                job.loss("cka_adaptation", step.step(), step.step(), (double) row.get("cka_adaptation"));
                job.loss("cka_reference", step.step(), step.step(), (double) row.get("cka_reference"));
                job.progress(Map.of("steps_done", i + 1, "steps", plan.steps().size()));
            }
        }
        Map<String, Object> result = new LinkedHashMap<>();
        result.put("rows", rows);
        result.put("method", plan.method().method());
        result.putAll(CriticalStep.find(steps, mergeLosses, plan.seed()));
        result.put("expert_a_turn", OwnLossTurn.find(steps, expertALosses));
        result.put("expert_b_turn", OwnLossTurn.find(steps, expertBLosses));
        result.put("layer", plan.cka().meanOverLayers() ? null : plan.cka().layer());
        result.put("cka", ckaSettings(plan.cka()));
        result.put("context", context);
        result.put("windows", mergeLosses[0].length);
        return result;
    }

    /** One row: the experts alone, the merge, its gain over the better expert, and CKA on both datasets. */
    private Map<String, Object> step(JobContext job, SweepPlan plan, SweepPlan.Step step, Gpt2Model base,
            TokenSequence adaptation, TokenSequence reference, int context, Device device) throws Exception {
        boolean atBase = plan.base() != null && step.a().equals(plan.base()) && step.b().equals(plan.base());
        try (Gpt2Model loadedA = atBase ? null : models.load(step.a(), device);
             Gpt2Model loadedB = atBase ? null : models.load(step.b(), device)) {
            Gpt2Model a = atBase ? base : loadedA;
            Gpt2Model b = atBase ? base : loadedB;
            int windows = plan.evaluation().maxWindows();
            int batch = plan.evaluation().batchSize();
            Evaluator.Result expertA = Evaluator.evaluate(a, adaptation, context, windows, batch);
            Evaluator.Result expertB = Evaluator.evaluate(b, adaptation, context, windows, batch);
            StepMerge.Scored merge = merges.score(job, plan, step, base, a, b, adaptation, context, device);
            Evaluator.Result better = expertA.loss() <= expertB.loss() ? expertA : expertB;
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("step", step.step());
            row.put("checkpoint_a_id", step.a());
            row.put("checkpoint_b_id", step.b());
            row.put("expert_a_loss", expertA.loss());
            row.put("expert_a_loss_se", finite(expertA.standardError()));
            row.put("expert_b_loss", expertB.loss());
            row.put("expert_b_loss_se", finite(expertB.standardError()));
            row.put("merge_loss", merge.result().loss());
            row.put("merge_loss_se", finite(merge.result().standardError()));
            if (merge.alpha() != null) {
                row.put("best_alpha", merge.alpha());
            }
            // Positive: the merge's loss is lower than the better expert's, window by window.
            row.put("gain_over_better_expert", Interval.ofDifference(better.windowLosses(),
                    merge.result().windowLosses()).toMap("gain"));
            row.put("cka_adaptation", cka(a, b, adaptation, context, plan.cka()));
            row.put("cka_reference", cka(a, b, reference, context, plan.cka()));
            row.put("merge_window_losses", merge.result().windowLosses());
            row.put("expert_a_window_losses", expertA.windowLosses());
            row.put("expert_b_window_losses", expertB.windowLosses());
            return row;
        }
    }

    /** The CKA settings as a result shows them, so that a compatibility model can tell which sweeps compare. */
    static Map<String, Object> ckaSettings(SweepPlan.Cka cka) {
        Map<String, Object> settings = new LinkedHashMap<>();
        settings.put("representation", cka.residual() ? "residual" : "mlp");
        settings.put("pooling", cka.mean() ? "mean" : "token");
        settings.put("estimator", cka.estimator().specName());
        settings.put("layer", cka.meanOverLayers() ? null : cka.layer());
        settings.put("mean_over_layers", cka.meanOverLayers());
        return settings;
    }

    private static Double finite(double value) {
        return Double.isFinite(value) ? value : null;
    }

    private TokenSequence tokens(UUID dataset, Split split) throws IOException {
        Split used = split != null ? split
                : datasets.heldOutSplit(dataset);
        TokenSequence tokens = datasets.sequence(dataset, used);
        if (tokens == null || Evaluator.windowCount(tokens.length(), 2, 1) == 0) {
            throw new JobFailedException("dataset_too_small", "the " + used.wireName() + " split of dataset " + dataset
                    + " is too short for one window");
        }
        return tokens;
    }

    /** Same-layer CKA between the two models: the chosen layer, or the mean over layers. */
    private static double cka(Gpt2Model a, Gpt2Model b, TokenSequence tokens, int context, SweepPlan.Cka settings) {
        int layers = a.config().nLayer();
        int windows = (int) Math.min(settings.windows(), tokens.length() / context);
        if (windows < 1 || (settings.estimator() == CkaEstimator.DEBIASED && settings.mean() && windows < 4)) {
            throw new JobFailedException("dataset_too_small", "too few windows of " + context + " tokens for CKA");
        }
        LayerSimilarity.Sample sample = new LayerSimilarity.Sample(context, windows, JobDefaults.BATCH_SIZE,
                settings.residual(), settings.mean());
        CkaMatrix inter = LayerSimilarity.compute(a, b, tokens, sample, settings.estimator(), null,
                LayerSimilarity.Progress.NONE).block(0, layers, layers, layers);
        return settings.meanOverLayers() ? inter.diagonalMean() : inter.get(settings.layer(), settings.layer());
    }
}
