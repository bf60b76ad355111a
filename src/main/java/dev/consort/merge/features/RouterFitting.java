package dev.consort.merge.features;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.consort.engine.Evaluator;
import dev.consort.engine.Gpt2Model;
import dev.consort.engine.StepLoop;
import dev.consort.engine.TokenSequence;
import dev.consort.engine.TrainingListener;
import dev.consort.engine.TrainingPlan;

/**
 * Fits a routed model's routers on adaptation data (DESIGN, "Router fitting"): every model weight frozen,
 * only the router parameters receive gradients; validation on the deterministic windows of the validation
 * sequence before the first step and every {@code evalEvery} steps (and after the last); at the end the
 * routers hold the weights of the best validation step.
 *
 * <p>The settings are a {@link TrainingPlan} ({@link #plan(int)} holds the router defaults); its
 * {@code trainable}, {@code checkpointEvery} and {@code stateEvery} do not apply (routers are what trains;
 * a fitting is short and is not resumed).
 *
 * <p>The steps are the engine's {@link StepLoop} over the router parameters, through the routed forward pass
 * (so it holds {@link StepLoop#GRADIENT_LOCK} while it runs); what fitting adds is validating and keeping the
 * best routers, the only arrays besides the optimizer's moments kept across steps.
 */
public final class RouterFitting {

    /**
     * @param steps              steps run
     * @param tokens             training tokens consumed
     * @param lastLoss           training loss of the last step
     * @param bestStep           the step whose routers were kept (0: the initial ones); -1 without validation
     * @param bestValidationLoss the validation loss of those routers; NaN without validation
     * @param stoppedEarly       whether the fitting stopped before the plan's last step, its validation no longer
     *                           improving
     */
    public record Result(int steps, long tokens, double lastLoss, int bestStep, double bestValidationLoss,
            boolean stoppedEarly) {}

    private RouterFitting() {}

    /**
     * The router-fitting defaults: AdamW lr 5e-3, weight decay 0.1 (on the 2-D router weights, not on
     * biases), betas (0.9, 0.99), no warm-up, cosine decay to 0.1 × lr, global-norm clip 1.0; batch 8,
     * context 256, validation every 100 steps on 100 windows, seed 0 (see {@link TrainingPlan#builder}).
     */
    public static TrainingPlan.Builder plan(int steps) {
        return TrainingPlan.builder(steps).learningRate(5e-3).weightDecay(0.1).betas(0.9, 0.99).warmupSteps(0)
                .minLrRatio(0.1).gradClip(1.0);
    }

    /**
     * Fits the routers of {@code routed} in place.
     *
     * @param validation the validation windows that choose the kept step; null to keep the last step
     * @throws IllegalArgumentException when the model has no routers (activation interpolation) or the data
     *                                  do not fit (shorter than one window, context above n_positions,
     *                                  tokens outside the vocabulary)
     * @throws IllegalStateException    when the loss becomes NaN or infinite
     */
    public static Result fit(RoutedModel routed, TrainingPlan plan, TokenSequence train, TokenSequence validation,
            RouterFitListener listener) throws InterruptedException {
        return fit(routed, plan, train, validation, 0, listener);
    }

    /**
     * As {@link #fit(RoutedModel, TrainingPlan, TokenSequence, TokenSequence, RouterFitListener)}, stopping once
     * {@code patience} validations in a row did not improve on the best (0: run every step of the plan).
     */
    public static Result fit(RoutedModel routed, TrainingPlan plan, TokenSequence train, TokenSequence validation,
            int patience, RouterFitListener listener) throws InterruptedException {
        Map<String, NDArray> parameters = routed.routerParameters();
        if (parameters.isEmpty()) {
            throw new IllegalArgumentException(routed.spec().method().name() + " has no routers to fit");
        }
        Gpt2Model shared = routed.shared();
        BestRouters best = new BestRouters(routed);
        try (StepLoop loop = new StepLoop("router fitting", shared, List.copyOf(parameters.keySet()), parameters::get,
                routed.manager(), tokens -> shared.forward(tokens, null, routed.newPass()), plan, train, validation)) {
            if (validation != null) {
                best.validate(0, 0, validation, plan, listener);
            }
            double[] lastLoss = {Double.NaN};
            loop.run(new StepLoop.Listener() {
                @Override
                public void checkStop() {
                    listener.checkStop();
                }

                @Override
                public void afterStep(TrainingListener.Step step) {
                    lastLoss[0] = step.loss();
                    listener.onStep(step);
                    if (validation != null && (step.step() == plan.steps() || step.step() % plan.evalEvery() == 0)) {
                        best.validate(step.step(), step.tokens(), validation, plan, listener);
                    }
                }

                @Override
                public boolean finished() {
                    return patience > 0 && best.sinceBest >= patience;
                }
            });
            return new Result(loop.step(), loop.tokens(), lastLoss[0], best.step, best.loss, loop.step() < plan.steps());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            best.restoreAndClose();
        }
    }

    /** The routers of the lowest validation loss so far, copied aside, and put back at the end. */
    private static final class BestRouters {
        private final RoutedModel routed;
        private NDManager copiesManager;
        private Map<String, NDArray> copies;
        int step = -1;
        double loss = Double.NaN;
        /** Validations since the best one. */
        int sinceBest;

        BestRouters(RoutedModel routed) {
            this.routed = routed;
        }

        void validate(int atStep, long tokens, TokenSequence validation, TrainingPlan plan, RouterFitListener listener) {
            Evaluator.Result result = routed.evaluate(validation, plan.context(), plan.evalWindows(), plan.batchSize());
            boolean better = !(loss <= result.loss());
            if (better) {
                loss = result.loss();
                step = atStep;
                sinceBest = 0;
                keep();
            } else {
                sinceBest++;
            }
            listener.onValidation(atStep, tokens, result, better);
        }

        /** Copies the routers as they are now (grad mode is off: the copies carry no graph). */
        private void keep() {
            NDManager manager = routed.manager().newSubManager();
            Map<String, NDArray> kept = new LinkedHashMap<>();
            routed.routerParameters().forEach((name, parameter) -> {
                NDArray copy = parameter.duplicate();
                copy.attach(manager);
                kept.put(name, copy);
            });
            if (copiesManager != null) {
                copiesManager.close();
            }
            copiesManager = manager;
            copies = kept;
        }

        void restoreAndClose() {
            if (copies != null) {
                copies.forEach((name, copy) -> copy.copyTo(routed.routerParameters().get(name)));
            }
            if (copiesManager != null) {
                copiesManager.close();
            }
        }
    }
}
