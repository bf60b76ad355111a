package dev.consort.engine;

import java.io.IOException;

/**
 * What a {@link Trainer} reports while it runs, all on the training thread. After each step the calls
 * come in this order: {@link #onStep}, then {@link #onValidation} (if due), {@link #onCheckpoint} (if
 * due), {@link #onStateDue} (if due); {@link #checkStop} comes before every step. Any exception a
 * method throws stops the run and propagates out of {@link Trainer#run}; the model then holds the
 * weights of the last completed step.
 */
public interface TrainingListener {

    /**
     * One completed optimizer step.
     *
     * @param step            steps completed so far (1 after the first step), counting steps before a resume
     * @param steps           the plan's total steps
     * @param tokens          training tokens consumed so far (step × batch × context × grad_accum)
     * @param loss            mean training cross-entropy of this step's batch (over its micro-batches)
     * @param learningRate    the learning rate this step used
     * @param tokensPerSecond this step's training throughput
     * @param etaSeconds      estimated seconds to the last step, from this run's average step time
     */
    record Step(int step, int steps, long tokens, double loss, double learningRate, double tokensPerSecond,
            double etaSeconds) {}

    default void onStep(Step step) {}

    /**
     * Validation after {@code step} (every {@code evalEvery} steps and after the last one), when the
     * Trainer was given a validation sequence.
     *
     * @param best whether this is the lowest validation loss of the run so far (resumes included)
     */
    default void onValidation(int step, long tokens, Evaluator.Result result, boolean best) {}

    /**
     * A checkpoint is due (every {@code checkpointEvery} steps and after the last one): save the weights,
     * e.g. {@code model.save(path, DType.F32)}. The model must not be modified.
     */
    default void onCheckpoint(int step, long tokens, Gpt2Model model) throws IOException {}

    /** Training state is due (every {@code stateEvery} steps): e.g. {@code trainer.saveState(path)}. */
    default void onStateDue(int step, long tokens, Trainer trainer) throws IOException {}

    /** Called before every step; throw (e.g. a cancellation exception) to stop the run there. */
    default void checkStop() {}
}
