package dev.consort.merge;

import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;
import java.util.UUID;

import org.springframework.stereotype.Component;

import dev.consort.checkpoint.Checkpoint;
import dev.consort.checkpoint.CheckpointModels;
import dev.consort.dataset.DatasetTokens;
import dev.consort.dataset.Split;
import dev.consort.engine.Gpt2Config;
import dev.consort.engine.MemoryEstimate;
import dev.consort.engine.TrainingPlan;
import dev.consort.evaluation.EvaluationPlan;
import dev.consort.evaluation.ExactMatch;
import dev.consort.job.InvalidSpecException;
import dev.consort.job.spec.JobBudgets;
import dev.consort.job.spec.JobDefaults;
import dev.consort.merge.features.FeatureMergeMethod;
import dev.consort.merge.features.FeatureMergeMethods;
import dev.consort.merge.features.RouterFitting;
import dev.consort.merge.features.RoutingSpec;
import dev.consort.merge.weights.InvalidMergeException;
import dev.consort.merge.weights.MergeCompatibility.MergeInput;
import dev.consort.merge.weights.MergeCompatibility;
import dev.consort.merge.weights.MergeCompatibility.ModelConfig;
import dev.consort.merge.weights.MergeProblem;
import dev.consort.merge.weights.MergeRecipe;
import dev.consort.merge.weights.WeightMergeMethod.BaseModelRole;
import dev.consort.merge.weights.WeightMergeMethod;
import dev.consort.merge.weights.WeightMergeMethods;
import dev.consort.merge.weights.WeightMergeRequest;
import dev.consort.training.TrainingBudget;
import dev.consort.training.TrainingJobRunner;
import dev.consort.training.TrainingPlans;
import dev.consort.training.TrainingSettings;
import dev.consort.web.ApiProblem.FieldError;

/**
 * Every check of a merge request, in one place, and the {@link MergePlan} it becomes: from a JSON
 * {@link MergeSpec} ({@link #plan}) or a mergekit YAML config ({@link #planMergekit}). Problems name the
 * request's own fields. The worker turns the plan's methods into what the merge libraries take with
 * {@link #recipe} and {@link #routing}, the same translation the checks used.
 */
@Component
public class MergePlanner {

    /** The paper's baseline learning rate (lr 8e-5, {@code finetuning/exp1.sh}). */
    static final double BASELINE_LEARNING_RATE = 8e-5;

    /** The paper's DataMix learning rate (lr 8e-4, {@code experiments_final/finetune_datamix/exp1.sh}). */
    static final double DATAMIX_LEARNING_RATE = 8e-4;

    private final CheckpointModels models;
    private final MergeInputs inputs;
    private final DatasetTokens datasets;
    private final JobBudgets budgets;

    MergePlanner(CheckpointModels models, MergeInputs inputs, DatasetTokens datasets, JobBudgets budgets) {
        this.models = models;
        this.inputs = inputs;
        this.datasets = datasets;
        this.budgets = budgets;
    }

    /** The plan of a JSON merge spec whose fields and references already passed. */
    public MergePlan plan(MergeSpec spec) throws InvalidSpecException {
        InvalidSpecException.throwIfAny(requestShape(spec));
        List<FieldError> errors = new ArrayList<>();
        Checkpoint shared = models.checkpoint(spec.baseCheckpointId() != null ? spec.baseCheckpointId()
                : spec.expertIds().get(0));
        long seed = spec.seed() == null ? 0 : spec.seed();
        FeatureMergeMethod.Members members = new FeatureMergeMethod.Members(spec.expertIds().size(),
                spec.baseCheckpointId() != null, shared.nLayer());
        List<MergeSpec.MethodRequest> requests = spec.requests();
        List<MergePlan.Method> methods = new ArrayList<>();
        for (int i = 0; i < requests.size(); i++) {
            MergeSpec.MethodRequest request = requests.get(i);
            String prefix = spec.methods() != null && !spec.methods().isEmpty() ? "methods[" + i + "]." : "";
            boolean featureSpace = FeatureMergeMethods.byName(request.method()).isPresent();
            if (!featureSpace && WeightMergeMethods.byName(request.method()).isEmpty()) {
                errors.add(new FieldError(prefix + "method", "unknown method '" + request.method() + "'; one of "
                        + methodNames()));
                continue;
            }
            MergePlan.Method method = new MergePlan.Method(request.method(), request.label(), request.parameters(),
                    request.modelParameters(), featureSpace);
            List<MergeProblem> problems = new ArrayList<>();
            if (featureSpace) {
                checkFeatureSpace(method, spec.adaptationDatasetId() != null, seed, members, problems);
            } else {
                problems.addAll(weightSpaceProblems(method,
                        spec.baseCheckpointId() == null ? null : spec.baseCheckpointId().toString(),
                        spec.expertIds().stream().map(UUID::toString).toList(), models.config(shared)));
            }
            problems.forEach(p -> errors.add(specField(prefix, p)));
            methods.add(method);
        }
        MergeSpec.RouterTraining router = spec.routerTraining() != null ? spec.routerTraining()
                : new MergeSpec.RouterTraining(null, null, null, null, null, null, null, null, null);
        if (router.steps() != null && router.epochs() != null) {
            errors.add(new FieldError("router_training.epochs", "give steps or epochs, not both"));
        }
        MergePlan plan = new MergePlan(spec.baseCheckpointId(), spec.expertIds(), spec.adaptationDatasetId(), methods,
                evaluation(spec, errors), routerTraining(router, routerSteps(router, spec.adaptationDatasetId(),
                        shared.nPositions()), shared.nPositions(), seed),
                router.patience() == null ? 0 : router.patience(), router.seeds() == null ? 1 : router.seeds(),
                finetuneBaseline(spec.baseline(), shared.nPositions()), datamixBaseline(spec.baseline(),
                        shared.nPositions()), seed, "float32".equals(spec.outDtype()) ? null : spec.outDtype());
        if (plan.evaluation().context() != null && plan.evaluation().context() > shared.nPositions()) {
            errors.add(new FieldError("evaluation.context", "exceeds n_positions (" + shared.nPositions() + ")"));
        }
        Gpt2Config sharedConfig = models.config(shared);
        if (methods.stream().anyMatch(MergePlan.Method::featureSpace)) {
            // Feature-space methods adapt on batches of the adaptation data through every member at once.
            int routedMembers = spec.expertIds().size() + (spec.baseCheckpointId() != null ? 1 : 0);
            errors.addAll(budgets.check(JobBudgets.Estimate.memoryOnly("router_training.batch_size",
                    MemoryEstimate.routing(sharedConfig, routedMembers, plan.routerTraining().batchSize(),
                            plan.routerTraining().context()))));
        }
        if (plan.baseline() != null) {
            errors.addAll(budgets.check(TrainingBudget.of(sharedConfig, plan.baseline().training(),
                    "baseline.finetune.training.")));
        }
        if (plan.datamix() != null) {
            errors.addAll(budgets.check(TrainingBudget.of(sharedConfig, plan.datamix().training(),
                    "baseline.datamix.training.")));
        }
        if (errors.isEmpty()) {
            List<String> expertFields = new ArrayList<>();
            for (int i = 0; i < spec.expertIds().size(); i++) {
                expertFields.add("expert_ids[" + i + "]");
            }
            checkModels(plan, "base_checkpoint_id", expertFields)
                    .forEach(p -> errors.add(new FieldError(p.field(), p.message())));
        }
        InvalidSpecException.throwIfAny(errors);
        return plan;
    }

    /** How the JSON request is put together: one method or several, datasets to evaluate on, the baseline's data. */
    private static List<FieldError> requestShape(MergeSpec spec) {
        List<FieldError> errors = new ArrayList<>();
        boolean one = spec.method() != null;
        boolean several = spec.methods() != null && !spec.methods().isEmpty();
        if (one == several) {
            errors.add(new FieldError(one ? "methods" : "method",
                    one ? "give either method (with parameters) or methods, not both" : "a method or methods is required"));
        }
        if (spec.parameters() != null && !one) {
            errors.add(new FieldError("parameters", "belongs with method; with methods, give each its parameters"));
        }
        if ((spec.evalDatasetIds() == null || spec.evalDatasetIds().isEmpty()) && spec.adaptationDatasetId() == null) {
            errors.add(new FieldError("eval_dataset_ids", "name the datasets to evaluate on (or an adaptation dataset)"));
        }
        MergeSpec.Baseline baseline = spec.baseline();
        if (baseline != null && baseline.finetune() == null && baseline.datamix() == null) {
            errors.add(new FieldError("baseline", "give finetune, datamix or both"));
        }
        if (baseline != null && baseline.finetune() != null && spec.adaptationDatasetId() == null) {
            errors.add(new FieldError("adaptation_dataset_id", "the fine-tuning baseline trains on the adaptation data"));
        }
        if (baseline != null && baseline.datamix() != null) {
            TrainingJobRunner.TrainingData.weightProblem(baseline.datamix().datasetIds(), baseline.datamix().mixtureWeights())
                    .ifPresent(problem -> errors.add(new FieldError("baseline.datamix.mixture_weights", problem)));
        }
        return errors;
    }

    /**
     * The plan of a mergekit config whose model references are resolved to checkpoint ids: its models become
     * the experts (for task-vector methods a {@code models} entry naming the base is the base itself; for
     * slerp a {@code base_model} not among them is the t = 0 end, the first expert), evaluated on
     * {@code evalDatasetIds}. Problems name the config's fields ({@code models[1].parameters.weight}).
     */
    public MergePlan planMergekit(WeightMergeRequest config, List<UUID> evalDatasetIds, Long seed)
            throws InvalidSpecException {
        WeightMergeMethod weightMethod;
        try {
            weightMethod = MergeRecipe.of(config).method();
        } catch (InvalidMergeException e) {
            throw new InvalidSpecException(e.problems().stream().map(p -> new FieldError(p.field(), p.message())).toList());
        }
        UUID base = config.baseModel() == null ? null : UUID.fromString(config.baseModel());
        List<UUID> experts = new ArrayList<>();
        List<String> expertFields = new ArrayList<>();
        List<Map<String, Object>> perModel = new ArrayList<>();
        List<?> described = (List<?>) config.describe().get("models");
        for (int i = 0; i < config.models().size(); i++) {
            UUID id = UUID.fromString(config.models().get(i).model());
            if (id.equals(base) && weightMethod.baseModelRole() == BaseModelRole.ORIGIN) {
                continue;
            }
            experts.add(id);
            expertFields.add("models[" + i + "].model");
            Object parameters = ((Map<?, ?>) described.get(i)).get("parameters");
            @SuppressWarnings("unchecked")
            Map<String, Object> own = parameters == null ? Map.of() : (Map<String, Object>) parameters;
            perModel.add(own);
        }
        if (base != null && weightMethod.baseModelRole() == BaseModelRole.FIRST_MODEL && !experts.contains(base)) {
            experts.add(0, base);
            expertFields.add(0, "base_model");
            perModel.add(0, Map.of());
        }
        if (experts.isEmpty()) {
            throw new InvalidSpecException("models", "lists no model to merge besides the base");
        }
        @SuppressWarnings("unchecked")
        Map<String, Object> global = (Map<String, Object>) config.describe().getOrDefault("parameters", Map.of());
        MergePlan.Method method = new MergePlan.Method(config.method(), null, global,
                perModel.stream().anyMatch(m -> !m.isEmpty()) ? perModel : List.of(), false);
        UUID originBase = weightMethod.baseModelRole() == BaseModelRole.ORIGIN ? base : null;
        Checkpoint shared = models.checkpoint(originBase != null ? originBase : experts.get(0));
        long seedValue = seed == null ? 0 : seed;
        MergeSpec.RouterTraining noRouters = new MergeSpec.RouterTraining(null, null, null, null, null, null, null,
                null, null);
        MergePlan plan = new MergePlan(originBase, experts, null, List.of(method),
                new EvaluationPlan(evalDatasetIds, null, null, JobDefaults.MERGE_EVAL_WINDOWS, JobDefaults.BATCH_SIZE),
                routerTraining(noRouters, JobDefaults.ROUTER_STEPS, shared.nPositions(), seedValue), 0, 1, null,
                null, seedValue, config.outDtype());
        List<MergeProblem> problems = new ArrayList<>();
        try {
            // The config itself, so that problems name its fields; then as the worker will see it.
            MergeRecipe.of(config).check(models.config(shared)).forEach(problems::add);
            recipe(plan, method);
        } catch (InvalidMergeException e) {
            problems.addAll(e.problems());
        }
        if (problems.isEmpty()) {
            problems.addAll(checkModels(plan, "base_model", expertFields));
        }
        InvalidSpecException.throwIfAny(problems.stream().map(p -> new FieldError(p.field(), p.message())).toList());
        return plan;
    }

    /** The JSON spec a mergekit plan shows as its job's {@code spec}: the same merge, as a JSON request. */
    static MergeSpec specOf(MergePlan plan) {
        MergePlan.Method method = plan.methods().get(0);
        MergeSpec.MethodRequest request = new MergeSpec.MethodRequest(method.method(),
                method.parameters().isEmpty() ? null : method.parameters(),
                method.modelParameters().isEmpty() ? null : method.modelParameters(), null);
        return new MergeSpec(plan.baseCheckpointId(), plan.expertIds(), null, null, List.of(request), null,
                plan.evaluation().datasetIds(), null, null, null, plan.seed() == 0 ? null : plan.seed(), plan.outDtype());
    }

    /**
     * A weight-space method of a plan as the weights library takes it: the experts as {@code models} (by id,
     * with their own parameters), the base as {@code base_model} for task-vector methods only.
     *
     * @throws InvalidMergeException when the method does not validate (a plan made here always does)
     */
    public static MergeRecipe recipe(MergePlan plan, MergePlan.Method method) throws InvalidMergeException {
        return recipe(method, plan.baseCheckpointId() == null ? null : plan.baseCheckpointId().toString(),
                plan.expertIds().stream().map(UUID::toString).toList(), plan.outDtype());
    }

    /**
     * A weight-space method merging {@code experts} (with {@code base} as the origin of task-vector methods) as
     * the weights library takes it; problems name mergekit's fields ({@code models[1].parameters.weight}).
     */
    public static MergeRecipe recipe(MergePlan.Method method, UUID base, List<UUID> experts)
            throws InvalidMergeException {
        return recipe(method, base == null ? null : base.toString(), experts.stream().map(UUID::toString).toList());
    }

    /**
     * As {@link #recipe(MergePlan.Method, UUID, List)} with the models named by labels of the caller's (the merge
     * reads its inputs by position, so the labels only have to differ, even where the models are the same).
     */
    public static MergeRecipe recipe(MergePlan.Method method, String base, List<String> experts)
            throws InvalidMergeException {
        return recipe(method, base, experts, null);
    }

    /** As {@link #recipe(MergePlan.Method, String, List)}, writing the merged weights in {@code outDtype} (null: F32). */
    private static MergeRecipe recipe(MergePlan.Method method, String base, List<String> experts, String outDtype)
            throws InvalidMergeException {
        List<MergeProblem> problems = new ArrayList<>();
        WeightMergeRequest request = weightRequest(method, base, experts, problems);
        if (!problems.isEmpty()) {
            throw new InvalidMergeException(problems);
        }
        return MergeRecipe.of(new WeightMergeRequest(request.method(), request.baseModel(), request.models(),
                request.parameters(), request.layers(), outDtype));
    }

    /** A feature-space method of a plan as the routing library takes it (checked again when the model is made). */
    public static RoutingSpec routing(MergePlan plan, MergePlan.Method method) {
        List<MergeProblem> problems = new ArrayList<>();
        RoutingSpec spec = FeatureMergeMethods.named(method.method()).spec(method.parameters(), plan.seed(), problems);
        if (spec == null || !problems.isEmpty()) {
            throw new IllegalStateException(method.displayName() + " of the plan does not validate: " + problems);
        }
        return spec;
    }

    private static List<String> methodNames() {
        TreeSet<String> names = new TreeSet<>(WeightMergeMethods.names());
        names.addAll(FeatureMergeMethods.names());
        return List.copyOf(names);
    }

    private static void checkFeatureSpace(MergePlan.Method method, boolean adaptationData, long seed,
            FeatureMergeMethod.Members members, List<MergeProblem> problems) {
        FeatureMergeMethod feature = FeatureMergeMethods.named(method.method());
        if (!method.modelParameters().isEmpty()) {
            problems.add(new MergeProblem("model_parameters", method.method() + " takes no per-expert parameters"));
        }
        RoutingSpec spec = FeatureMergeMethods.spec(feature, method.parameters(), seed, members, problems);
        String adaptation = spec == null ? null : feature.adaptation(spec);
        if (adaptation != null && !adaptationData) {
            problems.add(new MergeProblem("adaptation_dataset_id", method.method() + " " + adaptation
                    + " on the adaptation data"));
        }
    }

    /**
     * Every problem of a weight-space method merging {@code experts} (with {@code base} as the origin of
     * task-vector methods, labelled as in {@link #recipe(MergePlan.Method, String, List)}) into models of
     * {@code config}. Problems name mergekit's fields; {@link #requestField} names them as a JSON request does.
     */
    public static List<MergeProblem> weightSpaceProblems(MergePlan.Method method, String base, List<String> experts,
            Gpt2Config config) {
        List<MergeProblem> problems = new ArrayList<>();
        WeightMergeRequest request = weightRequest(method, base, experts, problems);
        try {
            MergeRecipe recipe = MergeRecipe.of(request);
            if (problems.isEmpty()) {
                problems.addAll(recipe.check(config));
            }
        } catch (InvalidMergeException e) {
            problems.addAll(e.problems());
        }
        return problems;
    }

    /** The request in mergekit's terms; problems name mergekit's fields ({@code models[1].parameters.weight}). */
    private static WeightMergeRequest weightRequest(MergePlan.Method method, String base, List<String> experts,
            List<MergeProblem> problems) {
        WeightMergeMethod weights = WeightMergeMethods.byName(method.method()).orElseThrow();
        List<Map<String, Object>> perModel = method.modelParameters();
        if (perModel.size() > experts.size()) {
            problems.add(new MergeProblem("model_parameters", "has " + perModel.size() + " entries for "
                    + experts.size() + " experts"));
        }
        List<WeightMergeRequest.ModelEntry> entries = new ArrayList<>();
        for (int i = 0; i < experts.size(); i++) {
            Map<String, Object> own = i < perModel.size() && perModel.get(i) != null ? perModel.get(i) : Map.of();
            entries.add(new WeightMergeRequest.ModelEntry(experts.get(i),
                    WeightMergeRequest.parameters(own, "models[" + i + "].parameters", problems)));
        }
        boolean origin = weights.baseModelRole() == BaseModelRole.ORIGIN;
        if (origin && base == null) {
            problems.add(new MergeProblem("base_model", method.method() + " merges task vectors: it needs the base"));
        }
        return new WeightMergeRequest(method.method(), origin ? base : null, entries,
                WeightMergeRequest.parameters(method.parameters(), "parameters", problems));
    }

    /** A library problem's field as a field of the JSON spec. */
    private static FieldError specField(String prefix, MergeProblem problem) {
        String field = problem.field();
        if (field.equals("base_model")) {
            return new FieldError("base_checkpoint_id", problem.message());
        } else if (field.equals("experts")) {
            return new FieldError("expert_ids", problem.message());
        } else if (field.equals("adaptation_dataset_id")) {
            return new FieldError(field, problem.message());
        }
        return new FieldError(prefix + requestField(field), problem.message());
    }

    /**
     * A weights-library field as the field of a JSON request's method: {@code models[1].parameters.weight} is
     * {@code model_parameters[1].weight}, {@code merge_method} is {@code method}; any other is as it is.
     */
    public static String requestField(String field) {
        if (field.startsWith("models[")) {
            return "model_parameters[" + field.substring("models[".length()).replaceFirst("\\]\\.parameters", "]");
        }
        return field.equals("merge_method") ? "method" : field;
    }

    private static EvaluationPlan evaluation(MergeSpec spec, List<FieldError> errors) {
        MergeSpec.Evaluation e = spec.evaluation();
        List<UUID> datasets = spec.evalDatasetIds() != null && !spec.evalDatasetIds().isEmpty() ? spec.evalDatasetIds()
                : spec.adaptationDatasetId() == null ? List.of() : List.of(spec.adaptationDatasetId());
        Split split = e == null || e.split() == null ? null : Split.named(e.split()).orElseThrow();
        return new EvaluationPlan(datasets, split, e == null ? null : e.context(),
                e != null && e.maxWindows() != null ? e.maxWindows() : JobDefaults.MERGE_EVAL_WINDOWS,
                e != null && e.batchSize() != null ? e.batchSize() : JobDefaults.BATCH_SIZE,
                ExactMatch.plan(e == null ? null : e.metrics(), e == null ? null : e.exactMatch(), "evaluation.", errors));
    }

    /** Router fitting's settings over {@link RouterFitting#plan}'s defaults, seeded by the job. */
    private static TrainingPlan routerTraining(MergeSpec.RouterTraining given, int steps, int nPositions, long seed) {
        TrainingSettings training = new TrainingSettings(steps, given.batchSize(), given.context(),
                given.learningRate(), null, null, null, null, null, null, null, given.evalEvery(), given.evalWindows(),
                null, null, seed);
        return TrainingPlans.resolve(training, nPositions, RouterFitting.plan(steps));
    }

    /**
     * The steps router fitting runs: as asked, or {@code epochs} passes over the adaptation data's training windows
     * (its training tokens over the context, per batch), or the default.
     */
    private int routerSteps(MergeSpec.RouterTraining router, UUID adaptation, int nPositions) {
        if (router.steps() != null || router.epochs() == null || adaptation == null) {
            return router.steps() != null ? router.steps() : JobDefaults.ROUTER_STEPS;
        }
        int context = router.context() != null ? router.context() : JobDefaults.context(nPositions);
        int batch = router.batchSize() != null ? router.batchSize() : JobDefaults.BATCH_SIZE;
        long windows = Math.max(1, (datasets.describe(adaptation, Split.TRAIN).tokens() - 1) / context);
        return (int) Math.max(1, Math.min(1_000_000, Math.ceil(router.epochs() * windows / batch)));
    }

    /**
     * The paper's baseline as its code runs it ({@code finetuning/exp1.sh}): the shared model's MLPs fine-tuned
     * on the adaptation data at lr 8e-5, unless the request asks for {@code trainable: all} or another rate.
     */
    private static MergePlan.Baseline finetuneBaseline(MergeSpec.Baseline baseline, int nPositions) {
        if (baseline == null || baseline.finetune() == null) {
            return null;
        }
        MergeSpec.FinetuneBaseline finetune = baseline.finetune();
        return new MergePlan.Baseline(TrainingPlans.resolve(finetune.training(), nPositions, BASELINE_LEARNING_RATE,
                trainable(finetune.trainable())), finetune.seeds() == null ? 1 : finetune.seeds(), null, null);
    }

    /**
     * DataMix as the paper's code trains it ({@code experiments_final/finetune_datamix/exp1.sh}): the shared model's
     * MLPs at lr 8e-4 on the mixture, unless the request asks otherwise.
     */
    private static MergePlan.Baseline datamixBaseline(MergeSpec.Baseline baseline, int nPositions) {
        if (baseline == null || baseline.datamix() == null) {
            return null;
        }
        MergeSpec.DataMixBaseline datamix = baseline.datamix();
        return new MergePlan.Baseline(TrainingPlans.resolve(datamix.training(), nPositions, DATAMIX_LEARNING_RATE,
                trainable(datamix.trainable())), datamix.seeds() == null ? 1 : datamix.seeds(), datamix.datasetIds(),
                datamix.mixtureWeights());
    }

    private static TrainingPlan.Trainable trainable(String requested) {
        return "all".equals(requested) ? TrainingPlan.Trainable.ALL : TrainingPlan.Trainable.MLP;
    }

    /**
     * Same architecture everywhere, from the stored configs: a submission reads no weights (the tensors of every
     * stored checkpoint were checked against its config when it was stored). Problems name {@code baseField} and
     * {@code expertFields}. The experts' descent from the shared model is checked by the worker
     * ({@link #descentProblem}).
     */
    private List<MergeProblem> checkModels(MergePlan plan, String baseField, List<String> expertFields) {
        List<ModelConfig> configs = new ArrayList<>();
        if (plan.baseCheckpointId() != null) {
            configs.add(new ModelConfig(baseField, models.config(models.checkpoint(plan.baseCheckpointId()))));
        }
        for (int i = 0; i < plan.expertIds().size(); i++) {
            configs.add(new ModelConfig(expertFields.get(i), models.config(models.checkpoint(plan.expertIds().get(i)))));
        }
        return MergeCompatibility.checkConfigs(configs);
    }

    /**
     * For task-vector methods and routed models, whether the experts equal the shared model outside the MLPs (what
     * they assume): the first tensor that differs, named by the job's JSON fields. Reads every shared tensor of
     * every model, two at a time, so it runs on the worker, before anything is merged.
     */
    Optional<MergeProblem> descentProblem(MergePlan plan) throws IOException {
        boolean descent = false;
        for (MergePlan.Method method : plan.methods()) {
            descent |= method.featureSpace()
                    || WeightMergeMethods.byName(method.method()).orElseThrow().baseModelRole() == BaseModelRole.ORIGIN;
        }
        if (!descent) {
            return Optional.empty();
        }
        MergeInput base = plan.baseCheckpointId() == null ? null : inputs.of("base_checkpoint_id", plan.baseCheckpointId());
        List<MergeInput> experts = new ArrayList<>();
        for (int i = 0; i < plan.expertIds().size(); i++) {
            experts.add(inputs.of("expert_ids[" + i + "]", plan.expertIds().get(i)));
        }
        MergeInput origin = base != null ? base : experts.get(0);
        List<MergeInput> others = base != null ? experts : experts.subList(1, experts.size());
        return MergeCompatibility.checkDescent(origin, others);
    }

    /** The request as plain values for the results table. */
    static Map<String, Object> describe(MergePlan.Method method) {
        Map<String, Object> description = new LinkedHashMap<>(method.parameters());
        if (!method.modelParameters().isEmpty()) {
            description.put("model_parameters", method.modelParameters());
        }
        return description;
    }
}
