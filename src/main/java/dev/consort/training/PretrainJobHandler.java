package dev.consort.training;

import org.springframework.stereotype.Component;

import dev.consort.database.TimeOrderedIds;
import dev.consort.engine.Devices;
import dev.consort.engine.Gpt2Config;
import dev.consort.engine.Gpt2FormatException;
import dev.consort.engine.Gpt2Model;
import dev.consort.engine.TrainingPlan;
import dev.consort.job.JobContext;
import dev.consort.job.InvalidSpecException;
import dev.consort.job.JobHandler;
import dev.consort.job.spec.JobBudgets;
import tools.jackson.databind.json.JsonMapper;

/** {@code pretrain}: a GPT-2 of the given shape from random initialisation (std 0.02), trained on a dataset. */
@Component
class PretrainJobHandler implements JobHandler<PretrainSpec, PretrainSpec> {

    static final double DEFAULT_LEARNING_RATE = 6e-4;

    private final TrainingJobRunner runner;
    private final JsonMapper json;
    private final JobBudgets budgets;

    PretrainJobHandler(TrainingJobRunner runner, JsonMapper json, JobBudgets budgets) {
        this.runner = runner;
        this.json = json;
        this.budgets = budgets;
    }

    @Override
    public String type() {
        return "pretrain";
    }

    @Override
    public Class<PretrainSpec> specType() {
        return PretrainSpec.class;
    }

    @Override
    public Class<PretrainSpec> planType() {
        return PretrainSpec.class;
    }

    @Override
    public PretrainSpec plan(PretrainSpec spec) throws InvalidSpecException {
        Gpt2Config config;
        try {
            config = Gpt2Config.parse(configJson(spec.config()));
        } catch (Gpt2FormatException e) {
            throw new InvalidSpecException("config", e.getMessage());
        }
        InvalidSpecException.throwIfAny(budgets.check(TrainingBudget.of(config, trainingPlan(spec, config),
                "training.")));
        return spec;
    }

    /** The config.json of the shape asked for, parsed back (which checks it) before anything trains. */
    private byte[] configJson(ModelShape shape) {
        int vocab = shape.vocabSize() == null ? 50257 : shape.vocabSize();
        int inner = shape.nInner() != null ? shape.nInner() : 4 * shape.nEmbd();
        return json.writerWithDefaultPrettyPrinter().writeValueAsBytes(new Gpt2Config(shape.nLayer(), shape.nEmbd(),
                shape.nHead(), inner, vocab, shape.nPositions(), 1e-5).toHfJson());
    }

    private static TrainingPlan trainingPlan(PretrainSpec spec, Gpt2Config config) {
        return TrainingPlans.resolve(spec.training(), config.nPositions(), DEFAULT_LEARNING_RATE,
                TrainingPlan.Trainable.ALL);
    }

    @Override
    public Object run(PretrainSpec spec, JobContext job) throws Exception {
        byte[] configJson = configJson(spec.config());
        Gpt2Config config = Gpt2Config.parse(configJson);
        TrainingPlan plan = trainingPlan(spec, config);
        try (Gpt2Model model = Gpt2Model.randomInit(config, plan.seed(), Devices.parse(job.device()))) {
            return runner.run(job, new TrainingJobRunner.Run(model, configJson, plan,
                    TrainingJobRunner.TrainingData.of(spec.datasetId()), null,
                    "pretrain-" + TimeOrderedIds.shortForm(job.jobId())));
        }
    }
}
