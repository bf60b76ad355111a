package dev.consort.merge;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.springframework.stereotype.Component;

import ai.djl.Device;
import dev.consort.engine.Devices;
import dev.consort.evaluation.EvaluationTable;
import dev.consort.evaluation.ResultsTable;
import dev.consort.job.InvalidSpecException;
import dev.consort.job.JobContext;
import dev.consort.job.JobFailedException;
import dev.consort.job.JobHandler;
import dev.consort.merge.weights.MergeProblem;

/**
 * {@code merge}: runs each method of the {@link MergePlan} — weight-space ones into a checkpoint
 * ({@link WeightSpaceStep}), feature-space ones into a routed model adapted to the adaptation data
 * ({@link FeatureSpaceStep}) — and evaluates every output, the experts and the base on each eval dataset into
 * one results table (the paper's Figure 4). With baselines, the shared model is also fine-tuned on the
 * adaptation data (the paper's Table 1) or on a mixture of datasets (its DataMix) and evaluated the same way
 * ({@link FinetuneBaselineStep}). The checks and defaults are {@link MergePlanner}'s.
 */
@Component
class MergeJobHandler implements JobHandler<MergeSpec, MergePlan> {

    private final MergePlanner planner;
    private final EvaluationTable table;
    private final WeightSpaceStep weightSpace;
    private final FeatureSpaceStep featureSpace;
    private final FinetuneBaselineStep baseline;

    MergeJobHandler(MergePlanner planner, EvaluationTable table, WeightSpaceStep weightSpace,
            FeatureSpaceStep featureSpace, FinetuneBaselineStep baseline) {
        this.planner = planner;
        this.table = table;
        this.weightSpace = weightSpace;
        this.featureSpace = featureSpace;
        this.baseline = baseline;
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
    public Class<MergePlan> planType() {
        return MergePlan.class;
    }

    @Override
    public MergePlan plan(MergeSpec spec) throws InvalidSpecException {
        return planner.plan(spec);
    }

    @Override
    public Object run(MergePlan plan, JobContext job) throws Exception {
        Device device = Devices.parse(job.device());
        // Checked here rather than at submission: it reads every shared tensor of every model.
        Optional<MergeProblem> descent = planner.descentProblem(plan);
        if (descent.isPresent()) {
            throw new JobFailedException("incompatible_models", descent.get().field() + ": " + descent.get().message());
        }
        ResultsTable results = new ResultsTable();
        List<Map<String, Object>> outputs = new ArrayList<>();

        // The experts and the base alone, on the same windows: the numbers every merge is read against.
        if (plan.baseCheckpointId() != null) {
            results.addAll(table.checkpoint(job, plan.evaluation(), plan.baseCheckpointId(), device,
                    identity("base", "base", Map.of()), output("checkpoint", plan.baseCheckpointId())));
        }
        for (int i = 0; i < plan.expertIds().size(); i++) {
            results.addAll(table.checkpoint(job, plan.evaluation(), plan.expertIds().get(i), device,
                    identity("expert", "expert " + i, Map.of()), output("checkpoint", plan.expertIds().get(i))));
        }
        for (int i = 0; i < plan.methods().size(); i++) {
            job.checkCancelled();
            MergePlan.Method method = plan.methods().get(i);
            job.event("method", "running " + method.displayName(), Map.of("method", method.method(), "index", i));
            outputs.add(method.featureSpace() ? featureSpace.run(job, plan, method, device, results)
                    : weightSpace.run(job, plan, method, device, results));
            job.progress(Map.of("methods_done", i + 1, "methods", plan.methods().size(), "last", method.displayName()));
        }
        if (plan.baseline() != null) {
            outputs.add(baseline.run(job, plan, plan.baseline(), FinetuneBaselineStep.Kind.FINETUNE, device, results));
        }
        if (plan.datamix() != null) {
            outputs.add(baseline.run(job, plan, plan.datamix(), FinetuneBaselineStep.Kind.DATAMIX, device, results));
        }
        Map<String, Object> result = new LinkedHashMap<>();
        // Every row against the better expert and the baselines on each dataset, paired over the same windows.
        result.put("rows", results.render(List.of(
                new ResultsTable.Comparison("vs_best_expert", row -> "expert".equals(row.identity("method"))),
                new ResultsTable.Comparison("vs_baseline", row -> "finetune_baseline".equals(row.identity("method"))),
                new ResultsTable.Comparison("vs_datamix", row -> "datamix_baseline".equals(row.identity("method"))))));
        result.put("outputs", outputs);
        return result;
    }

    /** The leading fields of a method's rows: its name, label and parameters as the request gave them. */
    static Map<String, Object> identity(MergePlan.Method method) {
        return identity(method.method(), method.displayName(), MergePlanner.describe(method));
    }

    static Map<String, Object> identity(String method, String label, Map<String, Object> parameters) {
        Map<String, Object> identity = new LinkedHashMap<>();
        identity.put("method", method);
        identity.put("label", label);
        identity.put("parameters", parameters);
        return identity;
    }

    /** The trailing fields of a row: the output it scores. */
    static Map<String, Object> output(String kind, Object id) {
        return Map.of("output_kind", kind, "output_id", id);
    }
}
