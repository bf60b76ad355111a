package dev.consort.merge.weights;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import dev.consort.engine.Gpt2Config;
import dev.consort.engine.Gpt2FormatException;
import dev.consort.engine.Gpt2TensorLayout;
import dev.consort.engine.Gpt2Weights;
import dev.consort.engine.TrainingPlan;
import dev.consort.safetensors.SafetensorsFormatException;
import dev.consort.safetensors.SafetensorsHeader;
import dev.consort.safetensors.SafetensorsReader;
import dev.consort.safetensors.TensorInfo;

/**
 * Whether checkpoints can be merged: {@link #checkConfigs} (same GPT-2 shape, from the configs alone: what a
 * merge's submission checks, reading no weights), {@link #checkArchitecture} (also each file's tensors, from the
 * safetensors headers) and {@link #checkDescent} (the models were fine-tuned from the base with only their MLPs
 * trained, as task-vector methods assume: every other tensor equals the base's; it reads every shared tensor, so
 * it runs on the worker). Problems name the request field and the tensor.
 */
public final class MergeCompatibility {

    /** A checkpoint taking part in a merge: the request field that names it, its config, its model.safetensors. */
    public record MergeInput(String field, Gpt2Config config, Path weights) {}

    /** A checkpoint taking part in a merge, as far as its config: the request field that names it, and the config. */
    public record ModelConfig(String field, Gpt2Config config) {}

    private static final int MAX_PROBLEMS_PER_INPUT = 5;

    private MergeCompatibility() {}

    /**
     * Checks that every input has the first one's architecture (n_layer, n_embd, n_head, n_inner, vocab_size,
     * n_positions) and that each file holds exactly the tensors, with the shapes, its config implies. Reads
     * headers only.
     */
    public static List<MergeProblem> checkArchitecture(List<MergeInput> inputs) throws IOException {
        List<MergeProblem> problems = checkConfigs(inputs.stream().map(i -> new ModelConfig(i.field(), i.config()))
                .toList());
        if (!problems.isEmpty()) {
            return problems;
        }
        for (MergeInput input : inputs) {
            try {
                Gpt2TensorLayout.check(input.config(), SafetensorsHeader.read(input.weights()).tensors());
            } catch (SafetensorsFormatException e) {
                problems.add(new MergeProblem(input.field(), "model.safetensors is malformed: " + e.getMessage()));
            } catch (Gpt2FormatException e) {
                e.violations().stream().limit(MAX_PROBLEMS_PER_INPUT).forEach(v -> problems.add(new MergeProblem(
                        input.field(), "tensor " + v.subject() + ": " + v.message())));
            }
        }
        return problems;
    }

    /** Checks that every model has the first one's architecture (n_layer, n_embd, n_head, n_inner, vocab_size, n_positions). */
    public static List<MergeProblem> checkConfigs(List<ModelConfig> models) {
        List<MergeProblem> problems = new ArrayList<>();
        ModelConfig first = models.get(0);
        for (ModelConfig model : models) {
            String difference = difference(first.config(), model.config());
            if (difference != null) {
                problems.add(new MergeProblem(model.field(), "has " + difference + " but " + first.field()
                        + " has " + difference(model.config(), first.config())
                        + "; merged models must share their architecture"));
            }
        }
        return problems;
    }

    /**
     * Checks, streaming tensor by tensor, that every model's non-MLP tensors equal the base's, and returns
     * the first that does not, naming the model's field and the tensor (or the first architecture problem,
     * if they do not even share an architecture). Holds two tensors at a time.
     */
    public static Optional<MergeProblem> checkDescent(MergeInput base, List<MergeInput> models) throws IOException {
        List<MergeInput> inputs = new ArrayList<>();
        inputs.add(base);
        inputs.addAll(models);
        List<MergeProblem> architecture = checkArchitecture(inputs);
        if (!architecture.isEmpty()) {
            return Optional.of(architecture.get(0));
        }
        try (SafetensorsReader baseReader = SafetensorsReader.open(base.weights())) {
            Map<String, TensorInfo> baseTensors = weights(base, baseReader).tensors();
            List<SafetensorsReader> readers = new ArrayList<>();
            try {
                List<Map<String, TensorInfo>> modelTensors = new ArrayList<>();
                for (MergeInput model : models) {
                    SafetensorsReader reader = SafetensorsReader.open(model.weights());
                    readers.add(reader);
                    modelTensors.add(weights(model, reader).tensors());
                }
                for (Map.Entry<String, TensorInfo> tensor : baseTensors.entrySet()) {
                    if (!assumedShared(tensor.getKey())) {
                        continue;
                    }
                    float[] baseValues = baseReader.floats(tensor.getValue().name());
                    for (int m = 0; m < models.size(); m++) {
                        float[] values = readers.get(m).floats(modelTensors.get(m).get(tensor.getKey()).name());
                        Optional<MergeProblem> problem = descentProblem(models.get(m).field(), tensor.getKey(), baseValues, values);
                        if (problem.isPresent()) {
                            return problem;
                        }
                    }
                }
                return Optional.empty();
            } finally {
                for (SafetensorsReader reader : readers) {
                    reader.close();
                }
            }
        }
    }

    /** Whether task-vector merging assumes the tensor with this bare name equal across base and models: all but the MLPs' and the tied lm_head. */
    static boolean assumedShared(String tensor) {
        return !TrainingPlan.Trainable.MLP.includes(tensor) && !tensor.equals(Gpt2TensorLayout.LM_HEAD);
    }

    /** The problem when a model's values of a tensor assumed shared differ from the base's. */
    static Optional<MergeProblem> descentProblem(String field, String tensor, float[] base, float[] model) {
        int index = Arrays.mismatch(base, model);
        if (index < 0) {
            return Optional.empty();
        }
        return Optional.of(new MergeProblem(field, "tensor " + tensor + " differs from the base model's (element "
                + index + ": " + model[index] + " vs " + base[index] + "); merging task vectors assumes models"
                + " fine-tuned from the base with only their MLP tensors (h.*.mlp.*) trained"));
    }

    /** The input's tensors by bare name; {@link #checkArchitecture} has accepted them. */
    static Gpt2Weights weights(MergeInput input, SafetensorsReader reader) {
        try {
            return Gpt2TensorLayout.check(input.config(), reader.header().tensors());
        } catch (Gpt2FormatException e) {
            throw new IllegalStateException(input.field() + " was not checked: " + e.getMessage(), e);
        }
    }

    /** The first architecture field in which {@code b} differs from {@code a}, as {@code n_embd 768}; null when none. */
    private static String difference(Gpt2Config a, Gpt2Config b) {
        if (a.nLayer() != b.nLayer()) {
            return "n_layer " + b.nLayer();
        }
        if (a.nEmbd() != b.nEmbd()) {
            return "n_embd " + b.nEmbd();
        }
        if (a.nHead() != b.nHead()) {
            return "n_head " + b.nHead();
        }
        if (a.nInner() != b.nInner()) {
            return "n_inner " + b.nInner();
        }
        if (a.vocabSize() != b.vocabSize()) {
            return "vocab_size " + b.vocabSize();
        }
        if (a.nPositions() != b.nPositions()) {
            return "n_positions " + b.nPositions();
        }
        return null;
    }
}
