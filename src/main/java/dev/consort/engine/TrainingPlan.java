package dev.consort.engine;

/**
 * Every setting of a training run, resolved (nothing null). Start from {@link #builder(int)}, which
 * holds the defaults (the paper's fine-tuning recipe), and override what the job asks for.
 *
 * @param steps           optimizer steps in the run
 * @param batchSize       windows per micro-batch
 * @param context         tokens per window T (at most n_positions)
 * @param learningRate    peak learning rate
 * @param weightDecay     AdamW decoupled weight decay, applied to 2-D tensors only (see {@link AdamW})
 * @param beta1           AdamW β1
 * @param beta2           AdamW β2
 * @param warmupSteps     steps of linear warm-up from lr/warmupSteps to lr
 * @param minLrRatio      the cosine schedule ends at minLrRatio × lr on the last step
 * @param gradClip        global gradient-norm clip; 0 disables clipping
 * @param gradAccum       micro-batches per step (the effective batch is batchSize × gradAccum windows)
 * @param evalEvery       validation every this many steps (and always after the last step)
 * @param evalWindows     validation windows (the deterministic windows of {@link Evaluator})
 * @param checkpointEvery checkpoint every this many steps (and always after the last step); 0 = only at the end
 * @param stateEvery      training state due every this many steps; 0 = never
 * @param seed            seed of the random training windows
 * @param trainable       which tensors are trained
 */
public record TrainingPlan(int steps, int batchSize, int context, double learningRate, double weightDecay,
        double beta1, double beta2, int warmupSteps, double minLrRatio, double gradClip, int gradAccum,
        int evalEvery, int evalWindows, int checkpointEvery, int stateEvery, long seed, Trainable trainable) {

    /** Which parameters receive gradients and updates; the others stay bit-identical. */
    public enum Trainable {
        /** Only the MLP tensors {@code h.{i}.mlp.*} (the paper's specialists). */
        MLP,
        /** Every parameter. */
        ALL;

        /** Whether the parameter with this bare HF name is trained. */
        public boolean includes(String name) {
            return this == ALL || (name.startsWith("h.") && name.contains(".mlp."));
        }
    }

    public TrainingPlan {
        require(steps >= 1, "steps must be at least 1");
        require(batchSize >= 1, "batchSize must be at least 1");
        require(context >= 1, "context must be at least 1");
        require(learningRate > 0 && Double.isFinite(learningRate), "learningRate must be positive");
        require(weightDecay >= 0, "weightDecay must not be negative");
        require(beta1 >= 0 && beta1 < 1 && beta2 >= 0 && beta2 < 1, "betas must be in [0, 1)");
        require(warmupSteps >= 0, "warmupSteps must not be negative");
        require(minLrRatio >= 0 && minLrRatio <= 1, "minLrRatio must be in [0, 1]");
        require(gradClip >= 0, "gradClip must not be negative");
        require(gradAccum >= 1, "gradAccum must be at least 1");
        require(evalEvery >= 1, "evalEvery must be at least 1");
        require(evalWindows >= 1, "evalWindows must be at least 1");
        require(checkpointEvery >= 0 && stateEvery >= 0, "checkpointEvery and stateEvery must not be negative");
        require(trainable != null, "trainable must be set");
    }

    /**
     * A builder with the defaults: batch 8, context 256, lr 8e-4, weight decay 0.1, betas (0.9, 0.99), no
     * warm-up, cosine to 0.1 × lr, clip 1.0, no accumulation, validation every 100 steps on 100 windows,
     * checkpoint only at the end, no state, seed 0, MLP only.
     */
    public static Builder builder(int steps) {
        return new Builder(steps);
    }

    /** The same plan drawing its training windows (and nothing else) from another seed. */
    public TrainingPlan withSeed(long other) {
        return new TrainingPlan(steps, batchSize, context, learningRate, weightDecay, beta1, beta2, warmupSteps,
                minLrRatio, gradClip, gradAccum, evalEvery, evalWindows, checkpointEvery, stateEvery, other, trainable);
    }

    /** The defaults of {@link #builder(int)} for a run of {@code steps}. */
    public static TrainingPlan defaults(int steps) {
        return builder(steps).build();
    }

    /**
     * The learning rate of the step that follows {@code completedSteps} (0-based): linear warm-up to lr
     * over {@code warmupSteps}, then cosine decay reaching minLrRatio × lr on the last step (a run whose
     * only post-warm-up step is its last uses lr).
     */
    public double learningRateAt(int completedSteps) {
        if (completedSteps < warmupSteps) {
            return learningRate * (completedSteps + 1) / warmupSteps;
        }
        int decaySteps = steps - 1 - warmupSteps;
        double progress = decaySteps <= 0 ? 0 : Math.min(1, (double) (completedSteps - warmupSteps) / decaySteps);
        double minLr = minLrRatio * learningRate;
        return minLr + 0.5 * (1 + Math.cos(Math.PI * progress)) * (learningRate - minLr);
    }

    /** Training tokens one step consumes. */
    public long tokensPerStep() {
        return (long) batchSize * context * gradAccum;
    }

    private static void require(boolean condition, String message) {
        if (!condition) {
            throw new IllegalArgumentException(message);
        }
    }

    /** Mutable settings, checked by {@link #build()}. */
    public static final class Builder {
        private int steps;
        private int batchSize = 8;
        private int context = 256;
        private double learningRate = 8e-4;
        private double weightDecay = 0.1;
        private double beta1 = 0.9;
        private double beta2 = 0.99;
        private int warmupSteps = 0;
        private double minLrRatio = 0.1;
        private double gradClip = 1.0;
        private int gradAccum = 1;
        private int evalEvery = 100;
        private int evalWindows = 100;
        private int checkpointEvery = 0;
        private int stateEvery = 0;
        private long seed = 0;
        private Trainable trainable = Trainable.MLP;

        private Builder(int steps) {
            this.steps = steps;
        }

        public Builder steps(int value) {
            steps = value;
            return this;
        }

        public Builder batchSize(int value) {
            batchSize = value;
            return this;
        }

        public Builder context(int value) {
            context = value;
            return this;
        }

        public Builder learningRate(double value) {
            learningRate = value;
            return this;
        }

        public Builder weightDecay(double value) {
            weightDecay = value;
            return this;
        }

        public Builder betas(double first, double second) {
            beta1 = first;
            beta2 = second;
            return this;
        }

        public Builder warmupSteps(int value) {
            warmupSteps = value;
            return this;
        }

        public Builder minLrRatio(double value) {
            minLrRatio = value;
            return this;
        }

        public Builder gradClip(double value) {
            gradClip = value;
            return this;
        }

        public Builder gradAccum(int value) {
            gradAccum = value;
            return this;
        }

        public Builder evalEvery(int value) {
            evalEvery = value;
            return this;
        }

        public Builder evalWindows(int value) {
            evalWindows = value;
            return this;
        }

        public Builder checkpointEvery(int value) {
            checkpointEvery = value;
            return this;
        }

        public Builder stateEvery(int value) {
            stateEvery = value;
            return this;
        }

        public Builder seed(long value) {
            seed = value;
            return this;
        }

        public Builder trainable(Trainable value) {
            trainable = value;
            return this;
        }

        public TrainingPlan build() {
            return new TrainingPlan(steps, batchSize, context, learningRate, weightDecay, beta1, beta2, warmupSteps,
                    minLrRatio, gradClip, gradAccum, evalEvery, evalWindows, checkpointEvery, stateEvery, seed,
                    trainable);
        }
    }
}
