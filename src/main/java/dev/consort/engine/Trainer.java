package dev.consort.engine;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalDouble;

import ai.djl.ndarray.NDArray;
import dev.consort.safetensors.DType;
import dev.consort.safetensors.SafetensorsReader;
import dev.consort.safetensors.SafetensorsWriter;
import dev.consort.safetensors.TensorInfo;

/**
 * Trains a {@link Gpt2Model} in place by a {@link TrainingPlan}: the shared {@link StepLoop} (random windows,
 * mean cross-entropy, accumulation, clipping, {@link AdamW} with warm-up and cosine decay) over the
 * {@link TrainingPlan.Trainable} tensors only (the others stay bit-identical), plus what a training run adds:
 * validation every {@code evalEvery} steps, checkpoints every {@code checkpointEvery} steps and saved training
 * state every {@code stateEvery} steps, reported to a {@link TrainingListener}. Like every step loop it holds
 * {@link StepLoop#GRADIENT_LOCK} while it runs.
 *
 * <p>Training state ({@link #saveState}) is a safetensors file: every weight as {@code model/<name>},
 * the AdamW moments of the trained tensors as {@code adam_m/<name>} and {@code adam_v/<name>}, and in
 * {@code __metadata__}: {@code consort_state} ("1"), {@code step}, {@code tokens_seen},
 * {@code rng_state}, {@code best_validation_loss} ("NaN" when none yet) and {@code trainable}. A
 * Trainer restored from it ({@link #restoreState}) continues exactly where the saved one was.
 */
public final class Trainer implements AutoCloseable {

    private static final String STATE_VERSION = "1";

    private final Gpt2Model model;
    private final TrainingPlan plan;
    private final TokenSequence validation;
    private final StepLoop loop;
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
        this(model, plan, List.of(train), new double[] {1}, validation);
    }

    /** A trainer at step 0 whose windows come from a mixture of sequences, each by its weight (DataMix). */
    public Trainer(Gpt2Model model, TrainingPlan plan, List<TokenSequence> train, double[] weights,
            TokenSequence validation) {
        List<String> trainable = new ArrayList<>();
        for (String name : model.parameters().keySet()) {
            if (plan.trainable().includes(name)) {
                trainable.add(name);
            }
        }
        this.model = model;
        this.plan = plan;
        this.validation = validation;
        this.loop = new StepLoop("training", model, trainable, model::parameter, model.manager(), model::forward,
                plan, train, weights, validation);
    }

    /**
     * Runs the steps from the current one to {@code plan.steps()}, reporting to {@code listener}. Waits
     * for {@link StepLoop#GRADIENT_LOCK} first. Returns at once when the plan is complete.
     *
     * @throws IllegalStateException when the loss becomes NaN or infinite (before that step's update)
     */
    public void run(TrainingListener listener) throws IOException, InterruptedException {
        loop.run(new StepLoop.Listener() {
            @Override
            public void checkStop() {
                listener.checkStop();
            }

            @Override
            public void afterStep(TrainingListener.Step done) throws IOException {
                listener.onStep(done);
                int step = done.step();
                boolean last = step == plan.steps();
                if (validation != null && (last || step % plan.evalEvery() == 0)) {
                    Evaluator.Result result = Evaluator.evaluate(model, validation, plan.context(),
                            plan.evalWindows(), plan.batchSize());
                    boolean best = !(bestValidationLoss <= result.loss());
                    if (best) {
                        bestValidationLoss = result.loss();
                    }
                    listener.onValidation(step, done.tokens(), result, best);
                }
                if (last || (plan.checkpointEvery() > 0 && step % plan.checkpointEvery() == 0)) {
                    listener.onCheckpoint(step, done.tokens(), model);
                }
                if (plan.stateEvery() > 0 && step % plan.stateEvery() == 0) {
                    listener.onStateDue(step, done.tokens(), Trainer.this);
                }
            }
        });
    }

    /** Writes the training state (see the class comment) to {@code file}. */
    public void saveState(Path file) throws IOException {
        List<SafetensorsWriter.Tensor> tensors = new ArrayList<>();
        model.parameters().forEach((name, parameter) -> tensors.add(new SafetensorsWriter.Tensor("model/" + name,
                parameter.getShape().getShape(), () -> Gpt2Model.hostFloats(parameter))));
        loop.optimizer().firstMoments().forEach((name, m) -> tensors.add(new SafetensorsWriter.Tensor("adam_m/" + name,
                m.getShape().getShape(), () -> Gpt2Model.hostFloats(m))));
        loop.optimizer().secondMoments().forEach((name, v) -> tensors.add(new SafetensorsWriter.Tensor("adam_v/" + name,
                v.getShape().getShape(), () -> Gpt2Model.hostFloats(v))));
        Map<String, String> metadata = new LinkedHashMap<>();
        metadata.put("consort_state", STATE_VERSION);
        metadata.put("step", Integer.toString(loop.step()));
        metadata.put("tokens_seen", Long.toString(loop.tokens()));
        metadata.put("rng_state", Long.toString(loop.windowState()));
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
            for (String name : loop.trained()) {
                expect(stored, "adam_m/" + name, model.parameter(name));
                expect(stored, "adam_v/" + name, model.parameter(name));
            }
            for (String name : new ArrayList<>(model.parameters().keySet())) {
                model.replaceParameter(name, reader.array("model/" + name, model.manager()));
            }
            for (String name : loop.trained()) {
                loop.optimizer().restore(name, reader.array("adam_m/" + name, model.manager()),
                        reader.array("adam_v/" + name, model.manager()));
            }
            loop.restorePosition(savedStep, Long.parseLong(required(metadata, "tokens_seen")),
                    Long.parseLong(required(metadata, "rng_state")));
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
        return loop.step();
    }

    public long tokensSeen() {
        return loop.tokens();
    }

    /** The lowest validation loss seen so far, empty before the first validation. */
    public OptionalDouble bestValidationLoss() {
        return Double.isNaN(bestValidationLoss) ? OptionalDouble.empty() : OptionalDouble.of(bestValidationLoss);
    }

    /** Frees the optimizer's moments (the model stays open). */
    @Override
    public void close() {
        loop.close();
    }
}
