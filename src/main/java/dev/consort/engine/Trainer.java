package dev.consort.engine;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalDouble;
import java.util.concurrent.locks.ReentrantLock;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.GradientCollector;

import dev.consort.safetensors.DType;
import dev.consort.safetensors.SafetensorsReader;
import dev.consort.safetensors.SafetensorsWriter;
import dev.consort.safetensors.TensorInfo;

/**
 * Trains a {@link Gpt2Model} in place by a {@link TrainingPlan}: random windows of the training
 * sequence (a seeded SplitMix64 generator whose state is saved), mean cross-entropy, gradient
 * accumulation, global-norm clipping, {@link AdamW} with linear warm-up and cosine decay, and only
 * the {@link TrainingPlan.Trainable} tensors receiving gradients (the others stay bit-identical).
 *
 * <p><b>One training run per JVM at a time.</b> DJL's PyTorch engine allows a single open
 * {@link GradientCollector} per JVM, so {@link #run} holds {@link #GRADIENT_LOCK} for the whole run: a
 * second run in another thread waits. Anything else that opens a GradientCollector must hold the same
 * lock. Evaluation needs no lock and may run in other threads meanwhile ({@link Evaluator} turns
 * grad mode off in its own thread), but not on the model being trained.
 *
 * <p>Memory: each step runs in a sub-manager of the model's manager (and each micro-batch and each
 * loss chunk in one of its own), closed at the end of the step, so nothing accumulates. The loss is
 * back-propagated {@link Gpt2Model#LOSS_CHUNK_ROWS} rows at a time into the final hidden states, then
 * once through the model, so only one chunk's {@code [rows, V]} logits exist even in training.
 *
 * <p>Training state ({@link #saveState}) is a safetensors file: every weight as {@code model/<name>},
 * the AdamW moments of the trained tensors as {@code adam_m/<name>} and {@code adam_v/<name>}, and in
 * {@code __metadata__}: {@code consort_state} ("1"), {@code step}, {@code tokens_seen},
 * {@code rng_state}, {@code best_validation_loss} ("NaN" when none yet) and {@code trainable}. A
 * Trainer restored from it ({@link #restoreState}) continues exactly where the saved one was.
 */
public final class Trainer implements AutoCloseable {

    /** Held by every training run of this JVM (see the class comment); fair, so runs start in order. */
    public static final ReentrantLock GRADIENT_LOCK = new ReentrantLock(true);

    private static final String STATE_VERSION = "1";

    private final Gpt2Model model;
    private final TrainingPlan plan;
    private final TokenSequence train;
    private final TokenSequence validation;
    private final List<String> trainable = new ArrayList<>();
    private final AdamW optimizer;

    private int step;
    private long tokensSeen;
    private final TrainingWindows windows;
    private double bestValidationLoss = Double.NaN;

    /**
     * A trainer at step 0.
     *
     * @param validation sequence for validation, or null for none
     * @throws IllegalArgumentException when the context exceeds n_positions, a sequence is shorter than
     *                                  one window ({@code context + 1} tokens) or holds tokens outside the
     *                                  vocabulary
     */
    public Trainer(Gpt2Model model, TrainingPlan plan, TokenSequence train, TokenSequence validation) {
        Evaluator.checkFits(model, train, plan.context());
        if (train.length() < plan.context() + 1L) {
            throw new IllegalArgumentException("training needs at least " + (plan.context() + 1)
                    + " tokens for context " + plan.context() + ", the sequence has " + train.length());
        }
        if (validation != null) {
            Evaluator.checkFits(model, validation, plan.context());
            if (Evaluator.windowCount(validation.length(), plan.context(), plan.evalWindows()) == 0) {
                throw new IllegalArgumentException("validation needs at least " + (plan.context() + 1)
                        + " tokens for context " + plan.context() + ", the sequence has " + validation.length());
            }
        }
        this.model = model;
        this.plan = plan;
        this.train = train;
        this.validation = validation;
        for (String name : model.parameters().keySet()) {
            if (plan.trainable().includes(name)) {
                trainable.add(name);
            }
        }
        this.optimizer = new AdamW(model, trainable, plan.beta1(), plan.beta2(), plan.weightDecay());
        this.windows = new TrainingWindows(train, plan.seed());
    }

    /**
     * Runs the steps from the current one to {@code plan.steps()}, reporting to {@code listener}. Waits
     * for {@link #GRADIENT_LOCK} first. Returns at once when the plan is complete.
     *
     * @throws IllegalStateException when the loss becomes NaN or infinite (before that step's update)
     */
    public void run(TrainingListener listener) throws IOException, InterruptedException {
        GRADIENT_LOCK.lockInterruptibly();
        boolean gradMode = JniUtils.isGradMode();
        try {
            JniUtils.setGradMode(false);
            trainable.forEach(name -> model.parameter(name).setRequiresGradient(true));
            int firstStep = step;
            long runStart = System.nanoTime();
            while (step < plan.steps()) {
                listener.checkStop();
                long stepStart = System.nanoTime();
                double learningRate = plan.learningRateAt(step);
                double loss = trainStep(learningRate);
                step++;
                tokensSeen += plan.tokensPerStep();
                long now = System.nanoTime();
                double averageStep = (now - runStart) / 1e9 / (step - firstStep);
                listener.onStep(new TrainingListener.Step(step, plan.steps(), tokensSeen, loss, learningRate,
                        plan.tokensPerStep() / ((now - stepStart) / 1e9), averageStep * (plan.steps() - step)));
                boolean last = step == plan.steps();
                if (validation != null && (last || step % plan.evalEvery() == 0)) {
                    Evaluator.Result result = Evaluator.evaluate(model, validation, plan.context(),
                            plan.evalWindows(), plan.batchSize());
                    boolean best = !(bestValidationLoss <= result.loss());
                    if (best) {
                        bestValidationLoss = result.loss();
                    }
                    listener.onValidation(step, tokensSeen, result, best);
                }
                if (last || (plan.checkpointEvery() > 0 && step % plan.checkpointEvery() == 0)) {
                    listener.onCheckpoint(step, tokensSeen, model);
                }
                if (plan.stateEvery() > 0 && step % plan.stateEvery() == 0) {
                    listener.onStateDue(step, tokensSeen, this);
                }
            }
        } finally {
            // Outside a run the parameters need no gradients: no thread builds graphs on them by accident.
            trainable.forEach(name -> model.parameter(name).setRequiresGradient(false));
            JniUtils.setGradMode(gradMode);
            GRADIENT_LOCK.unlock();
        }
    }

    /** One optimizer step over {@code gradAccum} micro-batches; returns the mean training loss. */
    private double trainStep(double learningRate) {
        for (String name : trainable) {
            // Gradients accumulate in PyTorch; start every step (even after an aborted one) from zero.
            JniUtils.zeroGrad((PtNDArray) model.parameter(name));
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
                throw new IllegalStateException("training diverged: the loss is " + loss + " at step " + (step + 1));
            }
            Map<String, NDArray> gradients = new LinkedHashMap<>();
            for (String name : trainable) {
                NDArray gradient = model.parameter(name).getGradient();
                gradient.attach(stepManager);
                gradients.put(name, gradient);
            }
            AdamW.clipGlobalNorm(gradients.values(), plan.gradClip());
            optimizer.step(gradients, learningRate, step + 1);
            return loss;
        }
    }

    /**
     * Forward and backward of one micro-batch of random windows; returns its mean loss. The loss gradient
     * is scaled by 1 / (positions × gradAccum), so the accumulated gradient is that of the step's mean loss.
     */
    private double backwardMicroBatch(GradientCollector collector, NDManager batch) {
        int rows = plan.batchSize();
        int context = plan.context();
        int[] inputs = new int[rows * context];
        int[] targets = new int[rows * context];
        windows.sample(rows, context, inputs, targets);
        NDArray x = batch.create(inputs, new Shape(rows, context));                                 // [B, T]
        NDArray y = batch.create(targets, new Shape(rows * context));                               // [B·T]
        NDArray hidden = model.forward(x);                                                          // [B, T, C]
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
    public static double backwardMeanLoss(Gpt2Model model, GradientCollector collector, NDManager batch,
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
                NDArray chunkHidden = hiddenRows.get(new NDIndex("{}:{}", start, end));              // [r, C]
                NDArray chunkTargets = targets.get(new NDIndex("{}:{}", start, end));                // [r]
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

    /** Writes the training state (see the class comment) to {@code file}. */
    public void saveState(Path file) throws IOException {
        List<SafetensorsWriter.Tensor> tensors = new ArrayList<>();
        model.parameters().forEach((name, parameter) -> tensors.add(new SafetensorsWriter.Tensor("model/" + name,
                parameter.getShape().getShape(), () -> Gpt2Model.hostFloats(parameter))));
        optimizer.firstMoments().forEach((name, m) -> tensors.add(new SafetensorsWriter.Tensor("adam_m/" + name,
                m.getShape().getShape(), () -> Gpt2Model.hostFloats(m))));
        optimizer.secondMoments().forEach((name, v) -> tensors.add(new SafetensorsWriter.Tensor("adam_v/" + name,
                v.getShape().getShape(), () -> Gpt2Model.hostFloats(v))));
        Map<String, String> metadata = new LinkedHashMap<>();
        metadata.put("consort_state", STATE_VERSION);
        metadata.put("step", Integer.toString(step));
        metadata.put("tokens_seen", Long.toString(tokensSeen));
        metadata.put("rng_state", Long.toString(windows.state()));
        metadata.put("best_validation_loss", Double.toString(bestValidationLoss));
        metadata.put("trainable", plan.trainable().name());
        SafetensorsWriter.write(file, tensors, DType.F32, metadata);
    }

    /**
     * Restores a state written by {@link #saveState}: the model's weights (its parameter arrays are
     * replaced, so look them up again afterwards), the moments, the step, tokens seen, the generator and
     * the best validation loss. The plan must train the same tensors; its other settings may differ.
     *
     * @throws IllegalArgumentException when the file is not a training state of this model and plan
     */
    public void restoreState(Path file) throws IOException {
        try (SafetensorsReader reader = SafetensorsReader.open(file)) {
            Map<String, String> metadata = reader.header().metadata();
            if (!STATE_VERSION.equals(metadata.get("consort_state"))) {
                throw new IllegalArgumentException(file + " is not a Consort training state");
            }
            if (!plan.trainable().name().equals(metadata.get("trainable"))) {
                throw new IllegalArgumentException("the state trains " + metadata.get("trainable")
                        + " tensors but the plan trains " + plan.trainable());
            }
            int savedStep = Integer.parseInt(required(metadata, "step"));
            if (savedStep > plan.steps()) {
                throw new IllegalArgumentException("the state is at step " + savedStep + ", past the plan's "
                        + plan.steps() + " steps");
            }
            Map<String, TensorInfo> stored = reader.tensors();
            for (String name : model.parameters().keySet()) {
                expect(stored, "model/" + name, model.parameter(name));
            }
            for (String name : trainable) {
                expect(stored, "adam_m/" + name, model.parameter(name));
                expect(stored, "adam_v/" + name, model.parameter(name));
            }
            for (String name : new ArrayList<>(model.parameters().keySet())) {
                model.replaceParameter(name, reader.array("model/" + name, model.manager()));
            }
            for (String name : trainable) {
                optimizer.restore(name, reader.array("adam_m/" + name, model.manager()),
                        reader.array("adam_v/" + name, model.manager()));
            }
            step = savedStep;
            tokensSeen = Long.parseLong(required(metadata, "tokens_seen"));
            windows.restore(Long.parseLong(required(metadata, "rng_state")));
            bestValidationLoss = Double.parseDouble(required(metadata, "best_validation_loss"));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(file + " has malformed training-state metadata: " + e.getMessage(), e);
        }
    }

    private static String required(Map<String, String> metadata, String key) {
        String value = metadata.get(key);
        if (value == null) {
            throw new IllegalArgumentException("the training state lacks the metadata entry " + key);
        }
        return value;
    }

    private static void expect(Map<String, TensorInfo> stored, String name, NDArray like) {
        TensorInfo tensor = stored.get(name);
        if (tensor == null) {
            throw new IllegalArgumentException("the training state lacks " + name);
        }
        Gpt2Model.checkShape(name, tensor, like);
    }

    public Gpt2Model model() {
        return model;
    }

    public TrainingPlan plan() {
        return plan;
    }

    /** Steps completed. */
    public int step() {
        return step;
    }

    public long tokensSeen() {
        return tokensSeen;
    }

    /** The lowest validation loss seen so far, empty before the first validation. */
    public OptionalDouble bestValidationLoss() {
        return Double.isNaN(bestValidationLoss) ? OptionalDouble.empty() : OptionalDouble.of(bestValidationLoss);
    }

    /** Frees the optimizer's moments (the model stays open). */
    @Override
    public void close() {
        optimizer.close();
    }
}
