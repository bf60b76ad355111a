package dev.consort.merge.features;

import dev.consort.engine.Evaluator;
import dev.consort.engine.TrainingListener;

/**
 * What {@link RouterFitting#fit} reports, all on the fitting thread: {@link #checkStop} before every step,
 * {@link #onStep} after it, then {@link #onValidation} when one is due (also once before the first step, as
 * step 0). An exception thrown here stops the fitting and propagates; the routers then hold the best
 * validated weights so far.
 */
public interface RouterFitListener {

    /** One optimizer step of the routers (the same record a {@link dev.consort.engine.Trainer} reports). */
    default void onStep(TrainingListener.Step step) {}

    /**
     * The loss on the validation windows after {@code step} steps.
     *
     * @param best whether it is the lowest so far (those are the weights the fitting keeps)
     */
    default void onValidation(int step, long tokens, Evaluator.Result result, boolean best) {}

    /** Called before every step; throw (e.g. a cancellation exception) to stop there. */
    default void checkStop() {}
}
