package dev.consort.training;

import dev.consort.engine.TrainingPlan;
import dev.consort.job.spec.JobDefaults;

/**
 * {@link TrainingSettings} (every field optional but {@code steps}) resolved into an engine
 * {@link TrainingPlan}, for training jobs and for router fitting alike. Defaults are the paper's (AdamW
 * (0.9, 0.99), weight decay 0.1, cosine to 0.1×, clip 1.0); validation and training state every tenth of the
 * run, validation also at every checkpoint so the best checkpoint can be told.
 */
public final class TrainingPlans {

    static final long DEFAULT_SEED = 1234;

    private TrainingPlans() {}

    /** A training job's plan: the paper's recipe at {@code defaultLearningRate}, seed 1234 unless asked. */
    public static TrainingPlan resolve(TrainingSettings s, int nPositions, double defaultLearningRate,
            TrainingPlan.Trainable trainable) {
        return resolve(s, nPositions, TrainingPlan.builder(s.steps()).learningRate(defaultLearningRate)
                .seed(DEFAULT_SEED).trainable(trainable));
    }

    /**
     * The settings given, over {@code defaults} for the optimizer, the seed and what is trained; batch, context
     * (capped by {@code nPositions}), validation, checkpoint and state cadence from the shared job defaults.
     */
    public static TrainingPlan resolve(TrainingSettings s, int nPositions, TrainingPlan.Builder defaults) {
        TrainingPlan d = defaults.build();
        int steps = s.steps();
        int tenth = Math.max(1, steps / 10);
        int checkpointEvery = value(s.checkpointEvery(), 0);
        int evalEvery = value(s.evalEvery(), checkpointEvery > 0 ? checkpointEvery : tenth);
        return TrainingPlan.builder(steps)
                .batchSize(value(s.batchSize(), JobDefaults.BATCH_SIZE))
                .context(value(s.context(), JobDefaults.context(nPositions)))
                .learningRate(value(s.learningRate(), d.learningRate()))
                .weightDecay(value(s.weightDecay(), d.weightDecay()))
                .betas(value(s.beta1(), d.beta1()), value(s.beta2(), d.beta2()))
                .warmupSteps(value(s.warmupSteps(), d.warmupSteps()))
                .minLrRatio(value(s.minLrRatio(), d.minLrRatio()))
                .gradClip(value(s.gradClip(), d.gradClip()))
                .gradAccum(value(s.gradAccum(), d.gradAccum()))
                .evalEvery(evalEvery)
                .evalWindows(value(s.evalWindows(), JobDefaults.VALIDATION_WINDOWS))
                .checkpointEvery(checkpointEvery)
                .stateEvery(value(s.stateEvery(), tenth))
                .seed(s.seed() == null ? d.seed() : s.seed())
                .trainable(d.trainable())
                .build();
    }

    private static int value(Integer given, int fallback) {
        return given == null ? fallback : given;
    }

    private static double value(Double given, double fallback) {
        return given == null ? fallback : given;
    }
}
