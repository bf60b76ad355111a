package dev.consort.training;

import java.nio.charset.StandardCharsets;

import org.springframework.stereotype.Component;

import dev.consort.checkpoint.Checkpoint;
import dev.consort.checkpoint.CheckpointModels;
import dev.consort.database.TimeOrderedIds;
import dev.consort.engine.Devices;
import dev.consort.engine.Gpt2Config;
import dev.consort.engine.Gpt2Model;
import dev.consort.engine.TrainingPlan;
import dev.consort.job.JobContext;
import dev.consort.job.InvalidSpecException;
import dev.consort.job.JobHandler;
import dev.consort.job.spec.JobBudgets;

/**
 * {@code finetune}: continues training a checkpoint on a dataset, by default the MLPs only (the
 * paper's specialists, lr 8e-4); its checkpoints name the base as parent and keep its config.json.
 */
@Component
class FinetuneJobHandler implements JobHandler<FinetuneSpec, FinetuneSpec> {

    static final double DEFAULT_LEARNING_RATE = 8e-4;

    private final TrainingJobRunner runner;
    private final CheckpointModels models;
    private final JobBudgets budgets;

    FinetuneJobHandler(TrainingJobRunner runner, CheckpointModels models, JobBudgets budgets) {
        this.runner = runner;
        this.models = models;
        this.budgets = budgets;
    }

    @Override
    public String type() {
        return "finetune";
    }

    @Override
    public Class<FinetuneSpec> specType() {
        return FinetuneSpec.class;
    }

    @Override
    public Class<FinetuneSpec> planType() {
        return FinetuneSpec.class;
    }

    @Override
    public FinetuneSpec plan(FinetuneSpec spec) throws InvalidSpecException {
        Gpt2Config config = models.config(models.checkpoint(spec.baseCheckpointId()));
        InvalidSpecException.throwIfAny(budgets.check(TrainingBudget.of(config, trainingPlan(spec, config.nPositions()),
                "training.")));
        return spec;
    }

    private static TrainingPlan trainingPlan(FinetuneSpec spec, int nPositions) {
        TrainingPlan.Trainable trainable = "all".equals(spec.trainable())
                ? TrainingPlan.Trainable.ALL : TrainingPlan.Trainable.MLP;
        return TrainingPlans.resolve(spec.training(), nPositions, DEFAULT_LEARNING_RATE, trainable);
    }

    @Override
    public Object run(FinetuneSpec spec, JobContext job) throws Exception {
        Checkpoint base = models.checkpoint(spec.baseCheckpointId());
        TrainingPlan plan = trainingPlan(spec, base.nPositions());
        try (Gpt2Model model = models.load(base.id(), Devices.parse(job.device()))) {
            return runner.run(job, new TrainingJobRunner.Run(model, base.configJson().getBytes(StandardCharsets.UTF_8),
                    plan, spec.data(), base.id(), "finetune-" + TimeOrderedIds.shortForm(job.jobId())));
        }
    }
}
