package dev.consort.merge.weights;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

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
 * Tensors stream through: the next tensor is read and merged (on a helper thread) while the writer writes
 * the last, so at most one merged tensor and one tensor of each input are held, plus a method's result
 * array where it does not merge in place: peak memory is about (models + 2) × the largest tensor, never
 * whole models.
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
        // Merges tensor t + 1 while the writer writes tensor t: writing is single-threaded, merging is not.
        ExecutorService ahead = Executors.newSingleThreadExecutor(runnable -> {
            Thread thread = new Thread(runnable, "weight-merge-ahead");
            thread.setDaemon(true);
            return thread;
        });
        try {
            List<Map<String, TensorInfo>> tensors = new ArrayList<>();
            for (MergeInput input : inputs) {
                SafetensorsReader reader = SafetensorsReader.open(input.weights());
                readers.add(reader);
                tensors.add(MergeCompatibility.weights(input, reader).tensors());
            }
            Sources sources = new Sources(recipe, config, readers, tensors, base != null, models, seed, new AtomicLong());
            List<Map.Entry<String, long[]>> layout = List.copyOf(Gpt2TensorLayout.expected(config).entrySet());
            List<Future<float[]>> pending = new ArrayList<>(List.of(ahead.submit(() -> sources.merge(layout.get(0)))));
            List<SafetensorsWriter.Tensor> merged = new ArrayList<>();
            for (int t = 0; t < layout.size(); t++) {
                int index = t;
                String name = layout.get(t).getKey();
                merged.add(new SafetensorsWriter.Tensor(name, layout.get(t).getValue(), () -> {
                    float[] result = result(pending.remove(0));
                    progress.merged(name, index + 1, layout.size());
                    if (index + 1 < layout.size()) {
                        pending.add(ahead.submit(() -> sources.merge(layout.get(index + 1))));
                    }
                    return result;
                }));
            }
            SafetensorsWriter.write(output, merged, recipe.outputDtype(), Map.of(METADATA_KEY, description(recipe, seed)));
            long elements = layout.stream().mapToLong(e -> elements(e.getValue())).sum();
            return new Result(layout.size(), sources.bytesRead().get(), elements * recipe.outputDtype().size());
        } catch (NotDescended e) {
            throw new InvalidMergeException(List.of(e.problem));
        } finally {
            ahead.shutdownNow();
            try {
                ahead.awaitTermination(1, TimeUnit.MINUTES);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            for (SafetensorsReader reader : readers) {
                reader.close();
            }
        }
    }

    /** Reads and merges one tensor at a time from the open inputs (the base first, when there is one). */
    private record Sources(MergeRecipe recipe, Gpt2Config config, List<SafetensorsReader> readers,
            List<Map<String, TensorInfo>> tensors, boolean hasBase, List<MergeInput> models, long seed,
            AtomicLong bytesRead) {

        float[] merge(Map.Entry<String, long[]> tensor) throws IOException {
            String name = tensor.getKey();
            List<float[]> values = new ArrayList<>();
            for (int i = 0; i < readers.size(); i++) {
                TensorInfo stored = tensors.get(i).get(name);
                values.add(readers.get(i).floats(stored.name()));
                bytesRead.addAndGet(stored.byteLength());
            }
            float[] base = hasBase ? values.remove(0) : null;
            WeightMergeMethod method = recipe.method();
            if (method.baseModelRole() == BaseModelRole.ORIGIN && MergeCompatibility.assumedShared(name)) {
                for (int m = 0; m < models.size(); m++) {
                    Optional<MergeProblem> problem = MergeCompatibility.descentProblem(models.get(m).field(), name,
                            base, values.get(m));
                    if (problem.isPresent()) {
                        throw new NotDescended(problem.get());
                    }
                }
            }
            int layer = MergeRecipe.layerOf(name);
            return method.merge(new TensorInputs(name, tensor.getValue(), layer, values, base,
                    parameters(recipe, name, config), TensorInputs.random(seed, name)));
        }
    }

    /** The merged tensor, or what stopped it: I/O, a descent problem, or a bug. */
    private static float[] result(Future<float[]> merged) throws IOException {
        try {
            return merged.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while merging");
        } catch (ExecutionException e) {
            if (e.getCause() instanceof IOException io) {
                throw io;
            }
            if (e.getCause() instanceof RuntimeException runtime) {
                throw runtime;
            }
            if (e.getCause() instanceof Error error) {
                throw error;
            }
            throw new IllegalStateException(e.getCause());
        }
    }

    /** The {@value #METADATA_KEY} metadata: the request in mergekit's layout, the seed and the output dtype. */
    static String description(MergeRecipe recipe, long seed) {
        Map<String, Object> description = new LinkedHashMap<>(recipe.describe());
        description.put("seed", seed);
        description.put("dtype", recipe.request().outDtype() == null ? "float32" : recipe.request().outDtype());
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
