package dev.consort.engine;

import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Function;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.GradientCollector;

/**
 * The optimizer step loop that training a model ({@link Trainer}) and fitting a routed model's routers share:
 * random windows of the training sequence from a seeded {@link TrainingWindows} generator (its state is part of
 * the loop's position), a forward pass to the final hidden states, the mean cross-entropy back-propagated
 * {@link Gpt2Model#LOSS_CHUNK_ROWS} rows at a time ({@link #backwardMeanLoss}), gradient accumulation over
 * {@code gradAccum} micro-batches, global-norm clipping, and {@link AdamW} on the trained arrays with the plan's
 * schedule. Only the trained arrays receive gradients; everything else the forward pass reads stays
 * bit-identical.
 *
 * <p><b>One loop per JVM at a time.</b> DJL's PyTorch engine allows a single open {@link GradientCollector} per
 * JVM, so {@link #run} holds {@link #GRADIENT_LOCK} for the whole run: a second run in another thread waits.
 * Evaluation needs no lock ({@link Evaluator} turns grad mode off in its own thread), but not on arrays being
 * trained.
 *
 * <p>Memory: each step runs in a sub-manager of the model's manager (each micro-batch and each loss chunk in one
 * of its own), closed at the end of the step; the only arrays kept across steps are the optimizer's moments.
 */
public final class StepLoop implements AutoCloseable {

    /** Held by every loop of this JVM (see the class comment); fair, so runs start in order. */
    public static final ReentrantLock GRADIENT_LOCK = new ReentrantLock(true);

    /** The forward pass a loop trains through: token ids {@code [B, T]} to final hidden states {@code [B, T, C]}. */
    @FunctionalInterface
    public interface Forward {
        NDArray hidden(NDArray tokens);
    }

    /** What a loop reports around each step, all on the loop's thread. */
    public interface Listener {
        /** Before every step; throw (e.g. a cancellation exception) to stop the run there. */
        void checkStop();

        /**
         * After each step, once the arrays hold its update: report it, validate, save. An exception stops the
         * run and propagates out of {@link #run}.
         */
        void afterStep(TrainingListener.Step step) throws IOException;

        /** After each step's report: true ends the run there, before the plan's last step (early stopping). */
        default boolean finished() {
            return false;
        }
    }

    private final String what;
    private final Gpt2Model model;
    private final TrainingPlan plan;
    private final List<String> trained;
    private final Function<String, NDArray> arrays;
    private final Forward forward;
    private final AdamW optimizer;
    private final TrainingWindows windows;
    private int step;
    private long tokens;

    /**
     * A loop at step 0 with fresh moments.
     *
     * @param what       names the run in messages ({@code training}, {@code router fitting})
     * @param model      the model whose manager scopes each step and whose head scores the hidden states
     * @param trained    the names of the arrays trained, in a fixed order
     * @param arrays     the live array of each name, looked up at every step (so replaced arrays are seen)
     * @param owner      the manager whose sub-manager holds the optimizer's moments
     * @param validation the sequence the caller validates on, checked here like the training one; null for none
     * @throws IllegalArgumentException when the context exceeds n_positions, a sequence is shorter than one
     *                                  window ({@code context + 1} tokens) or holds tokens outside the vocabulary
     */
    public StepLoop(String what, Gpt2Model model, List<String> trained, Function<String, NDArray> arrays,
            NDManager owner, Forward forward, TrainingPlan plan, TokenSequence train, TokenSequence validation) {
        this(what, model, trained, arrays, owner, forward, plan, List.of(train), new double[] {1}, validation);
    }

    /** As the other constructor, drawing each row's window from one of {@code train} by {@code weights} (DataMix). */
    public StepLoop(String what, Gpt2Model model, List<String> trained, Function<String, NDArray> arrays,
            NDManager owner, Forward forward, TrainingPlan plan, List<TokenSequence> train, double[] weights,
            TokenSequence validation) {
        for (TokenSequence source : train) {
            Evaluator.checkFits(model, source, plan.context());
            if (source.length() < plan.context() + 1L) {
                throw new IllegalArgumentException(what + " needs at least " + (plan.context() + 1)
                        + " tokens for context " + plan.context() + ", the sequence has " + source.length());
            }
        }
        if (validation != null) {
            Evaluator.checkFits(model, validation, plan.context());
            if (Evaluator.windowCount(validation.length(), plan.context(), plan.evalWindows()) == 0) {
                throw new IllegalArgumentException("validation needs at least " + (plan.context() + 1)
                        + " tokens for context " + plan.context() + ", the sequence has " + validation.length());
            }
        }
        this.what = what;
        this.model = model;
        this.plan = plan;
        this.trained = List.copyOf(trained);
        this.arrays = arrays;
        this.forward = forward;
        this.optimizer = new AdamW(arrays, trained, owner, plan.beta1(), plan.beta2(), plan.weightDecay());
        this.windows = new TrainingWindows(train, weights, plan.seed());
    }

    /**
     * Runs the steps from the current one to {@code plan.steps()}. Waits for {@link #GRADIENT_LOCK} first;
     * returns at once when the plan is complete.
     *
     * @throws IllegalStateException when the loss becomes NaN or infinite (before that step's update)
     */
    public void run(Listener listener) throws IOException, InterruptedException {
        GRADIENT_LOCK.lockInterruptibly();
        boolean gradMode = JniUtils.isGradMode();
        try {
            JniUtils.setGradMode(false);
            trained.forEach(name -> arrays.apply(name).setRequiresGradient(true));
            int firstStep = step;
            long runStart = System.nanoTime();
            while (step < plan.steps()) {
                listener.checkStop();
                long stepStart = System.nanoTime();
                double learningRate = plan.learningRateAt(step);
                double loss = trainStep(learningRate);
                step++;
                tokens += plan.tokensPerStep();
                long now = System.nanoTime();
                double averageStep = (now - runStart) / 1e9 / (step - firstStep);
                listener.afterStep(new TrainingListener.Step(step, plan.steps(), tokens, loss, learningRate,
                        plan.tokensPerStep() / ((now - stepStart) / 1e9), averageStep * (plan.steps() - step)));
                if (listener.finished()) {
                    break;
                }
            }
        } finally {
            // Outside a run the arrays need no gradients: no thread builds graphs on them by accident.
            trained.forEach(name -> arrays.apply(name).setRequiresGradient(false));
            JniUtils.setGradMode(gradMode);
            GRADIENT_LOCK.unlock();
        }
    }

    /** One optimizer step over {@code gradAccum} micro-batches; returns the mean training loss. */
    private double trainStep(double learningRate) {
        for (String name : trained) {
            // Gradients accumulate in PyTorch; start every step (even after an aborted one) from zero.
            JniUtils.zeroGrad((PtNDArray) arrays.apply(name));
        }
        try (NDManager stepManager = model.manager().newSubManager()) {
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
                throw new IllegalStateException(what + " diverged: the loss is " + loss + " at step " + (step + 1));
            }
            Map<String, NDArray> gradients = new LinkedHashMap<>();
            for (String name : trained) {
                NDArray gradient = arrays.apply(name).getGradient();
                gradient.attach(stepManager);
                gradients.put(name, gradient);
            }
            AdamW.clipGlobalNorm(gradients.values(), plan.gradClip());
            optimizer.step(gradients, learningRate, step + 1);
            return loss;
        }
    }

    /**
     * Forward and backward of one micro-batch of random windows; returns its mean loss. The loss gradient is
     * scaled by 1 / (positions × gradAccum), so the accumulated gradient is that of the step's mean loss.
     */
    private double backwardMicroBatch(GradientCollector collector, NDManager batch) {
        int rows = plan.batchSize();
        int context = plan.context();
        int[] inputs = new int[rows * context];
        int[] targets = new int[rows * context];
        windows.sample(rows, context, inputs, targets);
        NDArray x = batch.create(inputs, new Shape(rows, context));                                 // [B, T]
        NDArray y = batch.create(targets, new Shape(rows * context));                               // [B·T]
        NDArray hidden = forward.hidden(x);                                                         // [B, T, C]
        return backwardMeanLoss(model, collector, batch, hidden, y, plan.gradAccum());
    }

    /**
     * Back-propagates {@code model}'s mean next-token loss over {@code hidden}'s positions, scaled by
     * 1 / {@code gradAccum}, and returns that mean. The graph is cut at the hidden states: each chunk's loss
     * is back-propagated into this leaf while only that chunk's {@code [rows, V]} logits exist, then the
     * accumulated gradient goes through the rest of the graph once (the model, or a routed forward pass).
     *
     * @param hidden  final hidden states {@code [B, T, C]}, still attached to the graph
     * @param targets the next token at each position {@code [B·T]}
     */
    static double backwardMeanLoss(Gpt2Model model, GradientCollector collector, NDManager batch,
            NDArray hidden, NDArray targets, int gradAccum) {
        NDArray hiddenLeaf = hidden.stopGradient();
        hiddenLeaf.setRequiresGradient(true);
        long positions = targets.size();
        NDArray hiddenRows = hiddenLeaf.reshape(positions, model.config().nEmbd());                 // [B·T, C]
        float scale = 1f / (positions * gradAccum);
        double lossSum = 0;
        for (long start = 0; start < positions; start += Gpt2Model.LOSS_CHUNK_ROWS) {
            long end = Math.min(positions, start + Gpt2Model.LOSS_CHUNK_ROWS);
            try (NDManager chunk = batch.newSubManager()) {
                NDArray chunkHidden = hiddenRows.get(new NDIndex("{}:{}", start, end)); // [r, C]
                NDArray chunkTargets = targets.get(new NDIndex("{}:{}", start, end));   // [r]
                chunkHidden.attach(chunk);
                chunkTargets.attach(chunk);
                NDArray nll = model.crossEntropySum(chunkHidden, chunkTargets, Gpt2Model.LOSS_CHUNK_ROWS);
                // A scale PyTorch owns: DJL's op(Number) buffer may be freed before backward reads it.
                collector.backward(nll.mul(Gpt2Model.constant(nll, scale)));
                lossSum += nll.getFloat();
            }
        }
        collector.backward(hidden.mul(hiddenLeaf.getGradient()).sum());
        return lossSum / positions;
    }

    /** Steps completed. */
    public int step() {
        return step;
    }

    /** Training tokens consumed. */
    public long tokens() {
        return tokens;
    }

    /** The plan the loop follows. */
    public TrainingPlan plan() {
        return plan;
    }

    /** The names of the trained arrays, in order. */
    public List<String> trained() {
        return trained;
    }

    AdamW optimizer() {
        return optimizer;
    }

    /** The state of the window generator, for a saved position. */
    long windowState() {
        return windows.state();
    }

    /** Continues from a saved position: steps done, tokens consumed and the window generator's state. */
    void restorePosition(int savedStep, long savedTokens, long windowState) {
        step = savedStep;
        tokens = savedTokens;
        windows.restore(windowState);
    }

    /** Frees the optimizer's moments (the trained arrays stay). */
    @Override
    public void close() {
        optimizer.close();
    }
}
