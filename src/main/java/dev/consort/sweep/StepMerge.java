package dev.consort.sweep;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.springframework.stereotype.Component;

import ai.djl.Device;
import dev.consort.checkpoint.CheckpointModels;
import dev.consort.engine.Evaluator;
import dev.consort.engine.Gpt2Model;
import dev.consort.engine.TokenSequence;
import dev.consort.job.JobContext;
import dev.consort.merge.MergeInputs;
import dev.consort.merge.MergePlanner;
import dev.consort.merge.features.AlphaSearch;
import dev.consort.merge.features.FeatureMergeMethods;
import dev.consort.merge.features.RoutingSpec;
import dev.consort.merge.weights.MergeCompatibility.MergeInput;
import dev.consort.merge.weights.MergeRecipe;
import dev.consort.merge.weights.WeightMerger;
import dev.consort.storage.ScratchDirectory;

/**
 * The merge of one sweep step, scored on the step's windows: activation interpolation with α searched on its
 * grid (the best α's loss), or a weight-space merge of the two checkpoints written to scratch, loaded and
 * scored. Nothing is stored: a sweep measures.
 */
@Component
class StepMerge {

    /** The merge's loss on the windows and, for activation interpolation, the α that gave it. */
    record Scored(Evaluator.Result result, Double alpha) {}

    private final CheckpointModels models;
    private final MergeInputs inputs;
    private final Path scratch;

    StepMerge(CheckpointModels models, MergeInputs inputs, ScratchDirectory scratch) {
        this.models = models;
        this.inputs = inputs;
        this.scratch = scratch.path();
    }

    Scored score(JobContext job, SweepPlan plan, SweepPlan.Step step, Gpt2Model base, Gpt2Model a, Gpt2Model b,
            TokenSequence tokens, int context, Device device) throws Exception {
        int windows = plan.evaluation().maxWindows();
        int batch = plan.evaluation().batchSize();
        if (plan.method().featureSpace()) {
            RoutingSpec spec = FeatureMergeMethods.named(plan.method().method())
                    .spec(plan.method().parameters(), plan.seed(), new java.util.ArrayList<>());
            List<Double> grid = spec.alphas().isEmpty() ? List.of(spec.alpha()) : spec.alphas();
            AlphaSearch.Result search = AlphaSearch.search(base, a, b, grid, tokens, context, windows, batch,
                    new AlphaSearch.Listener() {
                        @Override
                        public void checkStop() {
                            job.checkCancelled();
                        }
                    });
            return new Scored(search.best().result(), search.best().alpha());
        }
        MergeRecipe recipe = MergePlanner.recipe(plan.method(), plan.base() == null ? null : "base", List.of("a", "b"));
        MergeInput origin = recipe.baseModel() == null ? null : inputs.of("base", plan.base());
        List<MergeInput> experts = List.of(inputs.of("checkpoint_a", step.a()), inputs.of("checkpoint_b", step.b()));
        Path file = Files.createTempFile(scratch, "sweep-merge-", ".safetensors");
        try {
            WeightMerger.merge(recipe, origin, experts, plan.seed(), file, (tensor, done, total) -> job.checkCancelled());
            try (Gpt2Model merged = Gpt2Model.load(file, models.config(models.checkpoint(step.a())), device)) {
                return new Scored(Evaluator.evaluate(merged, tokens, context, windows, batch), null);
            }
        } finally {
            Files.deleteIfExists(file);
        }
    }
}
