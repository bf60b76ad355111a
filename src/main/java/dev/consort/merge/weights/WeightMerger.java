package dev.consort.merge.weights;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import dev.consort.engine.Gpt2Config;
import dev.consort.engine.Gpt2TensorLayout;
import dev.consort.merge.weights.MergeCompatibility.MergeInput;
import dev.consort.merge.weights.WeightMergeMethod.BaseModelRole;
import dev.consort.safetensors.DType;
import dev.consort.safetensors.SafetensorsReader;
import dev.consort.safetensors.SafetensorsWriter;
import dev.consort.safetensors.TensorInfo;
import tools.jackson.databind.json.JsonMapper;

/**
 * Merges checkpoints tensor by tensor into a new model.safetensors: F32, bare HF names in layout order,
 * embeddings tied (no {@code lm_head.weight}), {@code __metadata__} {@code format: pt} plus
 * {@value #METADATA_KEY}, a JSON description of the merge (the request in mergekit's layout and the seed).
 * Only one tensor of each model is in memory at a time: peak memory is about (models + 2) × the largest
 * tensor (the inputs, the result or a method's scratch), never whole models.
 *
 * <p>Before merging, the inputs' architecture is checked from their headers, and the recipe's parameters
 * are resolved for every tensor. For task-vector methods, each tensor that must equal the base's (see
 * {@link MergeCompatibility#checkDescent}) is compared as it is read, so nothing is read twice; a
 * difference stops the merge with the tensor named (the output is then incomplete: the caller discards it).
 */
public final class WeightMerger {

    public static final String METADATA_KEY = "consort_merge";

    /** Told after each tensor is merged; throwing (to cancel) stops the merge. */
    @FunctionalInterface
    public interface Progress {
        void merged(String tensor, int done, int total);
    }

    /** What a merge did: tensors written, bytes read from the inputs and written to the output. */
    public record Result(int tensors, long bytesRead, long bytesWritten) {}

    private static final JsonMapper JSON = JsonMapper.builder().build();

    private WeightMerger() {}

    /**
     * Merges into {@code output} (replaced).
     *
     * @param base   the base checkpoint, required by task-vector methods ({@link MergeRecipe#baseModel()} not null), else null
     * @param models the checkpoints of {@link MergeRecipe#models()}, in the same order
     * @param seed   the merge's seed; each tensor draws from its own generator derived from it and the tensor's name
     */
    public static Result merge(MergeRecipe recipe, MergeInput base, List<MergeInput> models, long seed, Path output,
            Progress progress) throws IOException, InvalidMergeException {
        WeightMergeMethod method = recipe.method();
        boolean taskVectors = method.baseModelRole() == BaseModelRole.ORIGIN;
        if (taskVectors != (base != null) || models.size() != recipe.models().size()) {
            throw new IllegalArgumentException(method.name() + " needs " + recipe.models().size() + " models"
                    + (taskVectors ? " and a base" : " and no base") + "; got " + models.size()
                    + (base == null ? "" : " and a base"));
        }
        List<MergeInput> inputs = new ArrayList<>();
        if (base != null) {
            inputs.add(base);
        }
        inputs.addAll(models);
        List<MergeProblem> problems = MergeCompatibility.checkArchitecture(inputs);
        Gpt2Config config = inputs.get(0).config();
        if (problems.isEmpty()) {
            problems = recipe.check(config);
        }
        if (!problems.isEmpty()) {
            throw new InvalidMergeException(problems);
        }
        List<SafetensorsReader> readers = new ArrayList<>();
        try {
            List<Map<String, TensorInfo>> tensors = new ArrayList<>();
            for (MergeInput input : inputs) {
                SafetensorsReader reader = SafetensorsReader.open(input.weights());
                readers.add(reader);
                tensors.add(MergeCompatibility.weights(input, reader).tensors());
            }
            Map<String, long[]> layout = Gpt2TensorLayout.expected(config);
            long[] bytesRead = {0};
            int[] done = {0};
            List<SafetensorsWriter.Tensor> merged = new ArrayList<>();
            for (Map.Entry<String, long[]> entry : layout.entrySet()) {
                String name = entry.getKey();
                merged.add(new SafetensorsWriter.Tensor(name, entry.getValue(), () -> {
                    List<float[]> values = new ArrayList<>();
                    for (int i = 0; i < inputs.size(); i++) {
                        TensorInfo stored = tensors.get(i).get(name);
                        values.add(readers.get(i).floats(stored.name()));
                        bytesRead[0] += stored.byteLength();
                    }
                    float[] baseValues = base == null ? null : values.remove(0);
                    if (taskVectors && MergeCompatibility.assumedShared(name)) {
                        for (int m = 0; m < models.size(); m++) {
                            Optional<MergeProblem> problem = MergeCompatibility.descentProblem(
                                    models.get(m).field(), name, baseValues, values.get(m));
                            if (problem.isPresent()) {
                                throw new NotDescended(problem.get());
                            }
                        }
                    }
                    float[] result = method.merge(new TensorInputs(name, entry.getValue(), MergeRecipe.layerOf(name),
                            values, baseValues, parameters(recipe, name, config), TensorInputs.random(seed, name)));
                    progress.merged(name, ++done[0], layout.size());
                    return result;
                }));
            }
            SafetensorsWriter.write(output, merged, DType.F32, Map.of(METADATA_KEY, description(recipe, seed)));
            long elements = layout.values().stream().mapToLong(WeightMerger::elements).sum();
            return new Result(layout.size(), bytesRead[0], elements * Float.BYTES);
        } catch (NotDescended e) {
            throw new InvalidMergeException(List.of(e.problem));
        } finally {
            for (SafetensorsReader reader : readers) {
                reader.close();
            }
        }
    }

    /** The {@value #METADATA_KEY} metadata: the request in mergekit's layout, the seed and the output dtype. */
    static String description(MergeRecipe recipe, long seed) {
        Map<String, Object> description = new LinkedHashMap<>(recipe.describe());
        description.put("seed", seed);
        description.put("dtype", "float32");
        return JSON.writeValueAsString(description);
    }

    private static TensorParameters parameters(MergeRecipe recipe, String tensor, Gpt2Config config) {
        try {
            return recipe.parametersFor(tensor, MergeRecipe.layerOf(tensor), config.nLayer());
        } catch (InvalidMergeException e) {
            // recipe.check(config) resolved every tensor before the merge began.
            throw new IllegalStateException(e);
        }
    }

    private static long elements(long[] shape) {
        long count = 1;
        for (long dim : shape) {
            count *= dim;
        }
        return count;
    }

    /** Carries a descent problem out of the writer's tensor source. */
    private static final class NotDescended extends RuntimeException {
        private final MergeProblem problem;

        NotDescended(MergeProblem problem) {
            super(problem.toString(), null, false, false);
            this.problem = problem;
        }
    }
}
