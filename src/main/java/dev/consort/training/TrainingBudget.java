package dev.consort.training;

import dev.consort.engine.Gpt2Config;
import dev.consort.engine.MemoryEstimate;
import dev.consort.engine.TrainingPlan;
import dev.consort.job.spec.JobBudgets;

/**
 * What a training run takes, for {@link JobBudgets}: the peak memory of one step on its micro-batch, the checkpoints
 * it writes ({@code steps / checkpoint_every}, or the final one) and its saved state, each counted at the size of
 * the weights with AdamW's moments (an upper bound for checkpoints, which hold the weights alone), and the tokens
 * it trains on ({@code steps × grad_accum × batch_size × context}).
 */
public final class TrainingBudget {

    private TrainingBudget() {}

    /** The estimate of {@code plan} on a model of {@code config}; {@code prefix} locates its fields in the spec. */
    public static JobBudgets.Estimate of(Gpt2Config config, TrainingPlan plan, String prefix) {
        boolean mlpOnly = plan.trainable() == TrainingPlan.Trainable.MLP;
        MemoryEstimate memory = MemoryEstimate.training(config, mlpOnly, plan.batchSize(), plan.context());
        long parameters = MemoryEstimate.parameters(config);
        long trained = mlpOnly ? MemoryEstimate.mlpParameters(config) : parameters;
        long checkpoints = plan.checkpointEvery() > 0 ? (plan.steps() + plan.checkpointEvery() - 1L) / plan.checkpointEvery() : 1;
        long disk = MemoryEstimate.product(checkpoints + 1, Float.BYTES, parameters + 2 * trained);
        long tokens = MemoryEstimate.product(plan.steps(), plan.gradAccum(), plan.batchSize(), plan.context());
        return new JobBudgets.Estimate(prefix + "batch_size", memory, prefix + "checkpoint_every", disk, checkpoints,
                prefix + "steps", tokens);
    }
}
