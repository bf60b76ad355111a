package dev.consort.training;

import dev.consort.engine.TrainingPlan;
import dev.consort.job.spec.JobDefaults;

/**
 * A job's {@link TrainingSettings} (every field optional but {@code steps}) resolved into an engine
 * {@link TrainingPlan}. Defaults are the paper's (AdamW (0.9, 0.99), weight decay 0.1, cosine to 0.1×,
 * clip 1.0); validation and training state every tenth of the run, validation also at every checkpoint
 * so the best checkpoint can be told.
 */
public final class TrainingPlans {

    static final long DEFAULT_SEED = 1234;

    private TrainingPlans() {}

    public static TrainingPlan resolve(TrainingSettings s, int nPositions, double defaultLearningRate,
            TrainingPlan.Trainable trainable) {
        int steps = s.steps();
        int tenth = Math.max(1, steps / 10);
        int checkpointEvery = value(s.checkpointEvery(), 0);
        int evalEvery = value(s.evalEvery(), checkpointEvery > 0 ? checkpointEvery : tenth);
        return TrainingPlan.builder(steps)
                .batchSize(value(s.batchSize(), JobDefaults.BATCH_SIZE))
                .context(value(s.context(), JobDefaults.context(nPositions)))
                .learningRate(value(s.learningRate(), defaultLearningRate))
                .weightDecay(value(s.weightDecay(), 0.1))
                .betas(value(s.beta1(), 0.9), value(s.beta2(), 0.99))
                .warmupSteps(value(s.warmupSteps(), 0))
                .minLrRatio(value(s.minLrRatio(), 0.1))
                .gradClip(value(s.gradClip(), 1.0))
                .gradAccum(value(s.gradAccum(), 1))
                .evalEvery(evalEvery)
                .evalWindows(value(s.evalWindows(), JobDefaults.VALIDATION_WINDOWS))
                .checkpointEvery(checkpointEvery)
                .stateEvery(value(s.stateEvery(), tenth))
                .seed(s.seed() == null ? DEFAULT_SEED : s.seed())
                .trainable(trainable)
                .build();
    }

    private static int value(Integer given, int fallback) {
        return given == null ? fallback : given;
    }

    private static double value(Double given, double fallback) {
        return given == null ? fallback : given;
    }
}
