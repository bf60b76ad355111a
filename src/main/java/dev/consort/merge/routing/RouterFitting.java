package dev.consort.merge.routing;

import java.util.LinkedHashMap;
import java.util.Map;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.GradientCollector;

import dev.consort.engine.AdamW;
import dev.consort.engine.Evaluator;
import dev.consort.engine.Gpt2Model;
import dev.consort.engine.TokenSequence;
import dev.consort.engine.Trainer;
import dev.consort.engine.TrainingListener;
import dev.consort.engine.TrainingPlan;
import dev.consort.engine.TrainingWindows;

/**
 * Fits a routed model's routers on adaptation data (DESIGN, "Router fitting"): every model weight frozen,
 * only the router parameters receive gradients; random windows of the training sequence from a seeded
 * SplitMix64 generator, mean cross-entropy, global-norm clipping, {@link AdamW} with the plan's cosine
 * schedule; validation on the deterministic windows of the validation sequence before the first step and
 * every {@code evalEvery} steps (and after the last); at the end the routers hold the weights of the best
 * validation step.
 *
 * <p>The settings are a {@link TrainingPlan} ({@link #plan(int)} holds the router defaults); its
 * {@code trainable}, {@code checkpointEvery} and {@code stateEvery} do not apply (routers are what trains;
 * a fitting is short and is not resumed).
 *
 * <p>Holds {@link Trainer#GRADIENT_LOCK} for the whole fitting (DJL allows one GradientCollector per JVM).
 * Memory: each step runs in a sub-manager of the shared model's manager, each micro-batch and loss chunk in
 * one of its own; the only arrays kept across steps are the optimizer's moments and one copy of the best
 * routers.
 */
public final class RouterFitting {

    /**
     * @param steps              steps run
     * @param tokens             training tokens consumed
     * @param lastLoss           training loss of the last step
     * @param bestStep           the step whose routers were kept (0: the initial ones); -1 without validation
     * @param bestValidationLoss the validation loss of those routers; NaN without validation
     */
    public record Result(int steps, long tokens, double lastLoss, int bestStep, double bestValidationLoss) {}

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
        Map<String, NDArray> parameters = routed.routerParameters();
        if (parameters.isEmpty()) {
            throw new IllegalArgumentException(routed.spec().method().wireName() + " has no routers to fit");
        }
        Gpt2Model shared = routed.shared();
        Evaluator.checkFits(shared, train, plan.context());
        if (train.length() < plan.context() + 1L) {
            throw new IllegalArgumentException("router fitting needs at least " + (plan.context() + 1)
                    + " tokens for context " + plan.context() + ", the sequence has " + train.length());
        }
        if (validation != null) {
            Evaluator.checkFits(shared, validation, plan.context());
            if (Evaluator.windowCount(validation.length(), plan.context(), plan.evalWindows()) == 0) {
                throw new IllegalArgumentException("validation needs at least " + (plan.context() + 1)
                        + " tokens for context " + plan.context() + ", the sequence has " + validation.length());
            }
        }
        Trainer.GRADIENT_LOCK.lockInterruptibly();
        boolean gradMode = JniUtils.isGradMode();
        Fitting fitting = null;
        try {
            JniUtils.setGradMode(false);
            fitting = new Fitting(routed, plan, train);
            parameters.values().forEach(parameter -> parameter.setRequiresGradient(true));
            return fitting.run(validation, listener);
        } finally {
            // Outside a fitting the routers need no gradients: no thread builds graphs on them by accident.
            parameters.values().forEach(parameter -> parameter.setRequiresGradient(false));
            if (fitting != null) {
                fitting.restoreBestAndClose();
            }
            JniUtils.setGradMode(gradMode);
            Trainer.GRADIENT_LOCK.unlock();
        }
    }

    /** The state of one fitting: optimizer, generator, best routers. */
    private static final class Fitting {
        private final RoutedModel routed;
        private final TrainingPlan plan;
        private final TokenSequence train;
        private final Map<String, NDArray> parameters;
        private final AdamW optimizer;
        private final TrainingWindows windows;
        private NDManager bestManager;
        private Map<String, NDArray> bestRouters;
        private int bestStep = -1;
        private double bestValidationLoss = Double.NaN;

        Fitting(RoutedModel routed, TrainingPlan plan, TokenSequence train) {
            this.routed = routed;
            this.plan = plan;
            this.train = train;
            this.parameters = routed.routerParameters();
            this.optimizer = new AdamW(parameters::get, parameters.keySet(), routed.manager(), plan.beta1(),
                    plan.beta2(), plan.weightDecay());
            this.windows = new TrainingWindows(train, plan.seed());
        }

        Result run(TokenSequence validation, RouterFitListener listener) {
            if (validation != null) {
                validate(0, 0, validation, listener);
            }
            double loss = Double.NaN;
            long tokens = 0;
            long runStart = System.nanoTime();
            for (int step = 1; step <= plan.steps(); step++) {
                listener.checkStop();
                long stepStart = System.nanoTime();
                double learningRate = plan.learningRateAt(step - 1);
                loss = trainStep(step, learningRate);
                tokens += plan.tokensPerStep();
                long now = System.nanoTime();
                double averageStep = (now - runStart) / 1e9 / step;
                listener.onStep(new TrainingListener.Step(step, plan.steps(), tokens, loss, learningRate,
                        plan.tokensPerStep() / ((now - stepStart) / 1e9), averageStep * (plan.steps() - step)));
                if (validation != null && (step == plan.steps() || step % plan.evalEvery() == 0)) {
                    validate(step, tokens, validation, listener);
                }
            }
            return new Result(plan.steps(), tokens, loss, bestStep, bestValidationLoss);
        }

        private void validate(int step, long tokens, TokenSequence validation, RouterFitListener listener) {
            Evaluator.Result result = routed.evaluate(validation, plan.context(), plan.evalWindows(),
                    plan.batchSize());
            boolean best = !(bestValidationLoss <= result.loss());
            if (best) {
                bestValidationLoss = result.loss();
                bestStep = step;
                keepBest();
            }
            listener.onValidation(step, tokens, result, best);
        }

        /** Copies the routers as they are now (grad mode is off: the copies carry no graph). */
        private void keepBest() {
            NDManager copies = routed.manager().newSubManager();
            Map<String, NDArray> routers = new LinkedHashMap<>();
            parameters.forEach((name, parameter) -> {
                NDArray copy = parameter.duplicate();
                copy.attach(copies);
                routers.put(name, copy);
            });
            if (bestManager != null) {
                bestManager.close();
            }
            bestManager = copies;
            bestRouters = routers;
        }

        void restoreBestAndClose() {
            try {
                if (bestRouters != null) {
                    bestRouters.forEach((name, copy) -> copy.copyTo(parameters.get(name)));
                }
            } finally {
                if (bestManager != null) {
                    bestManager.close();
                }
                optimizer.close();
            }
        }

        /** One optimizer step over {@code gradAccum} micro-batches; returns the mean training loss. */
        private double trainStep(int step, double learningRate) {
            for (NDArray parameter : parameters.values()) {
                // Gradients accumulate in PyTorch; start every step from zero.
                JniUtils.zeroGrad((PtNDArray) parameter);
            }
            try (NDManager stepManager = routed.shared().manager().newSubManager()) {
                double lossSum = 0;
                try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
                    for (int micro = 0; micro < plan.gradAccum(); micro++) {
                        try (NDManager batch = stepManager.newSubManager()) {
                            lossSum += backwardMicroBatch(collector, batch);
                        }
                    }
                }
                double loss = lossSum / plan.gradAccum();
                if (!Double.isFinite(loss)) {
                    throw new IllegalStateException("router fitting diverged: the loss is " + loss + " at step "
                            + step);
                }
                Map<String, NDArray> gradients = new LinkedHashMap<>();
                parameters.forEach((name, parameter) -> {
                    NDArray gradient = parameter.getGradient();
                    gradient.attach(stepManager);
                    gradients.put(name, gradient);
                });
                AdamW.clipGlobalNorm(gradients.values(), plan.gradClip());
                optimizer.step(gradients, learningRate, step);
                return loss;
            }
        }

        /**
         * Forward and backward of one micro-batch of random windows through the routed forward pass; returns
         * its mean loss. As in the Trainer, the graph is cut at the final hidden states so that only one loss
         * chunk's {@code [rows, V]} logits exist at a time.
         */
        private double backwardMicroBatch(GradientCollector collector, NDManager batch) {
            int rows = plan.batchSize();
            int context = plan.context();
            int[] inputs = new int[rows * context];
            int[] targets = new int[rows * context];
            windows.sample(rows, context, inputs, targets);
            Gpt2Model shared = routed.shared();
            NDArray x = batch.create(inputs, new Shape(rows, context));                             // [B, T]
            NDArray y = batch.create(targets, new Shape(rows * context));                           // [B·T]
            NDArray hidden = shared.forward(x, null, routed.newPass());                             // [B, T, C]
            return Trainer.backwardMeanLoss(shared, collector, batch, hidden, y, plan.gradAccum());
        }
    }
}
