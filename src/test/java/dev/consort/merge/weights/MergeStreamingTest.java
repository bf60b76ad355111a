package dev.consort.merge.weights;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.consort.engine.Gpt2Config;
import dev.consort.engine.Gpt2TensorLayout;
import dev.consort.merge.weights.MergeCompatibility.MergeInput;
import dev.consort.safetensors.DType;
import dev.consort.safetensors.SafetensorsHeader;
import dev.consort.safetensors.SafetensorsReader;
import dev.consort.safetensors.SafetensorsWriter;
import dev.consort.safetensors.TensorInfo;
import dev.consort.support.TinyGpt2;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** The streaming merger on tiny GPT-2 checkpoints against the methods applied to the tensors directly. */
class MergeStreamingTest {

    @TempDir
    Path dir;

    private final TinyGpt2 tiny = new TinyGpt2();

    private Gpt2Config config() throws Exception {
        return Gpt2Config.parse(tiny.config());
    }

    private MergeInput base() throws Exception {
        Path file = dir.resolve("base.safetensors");
        Files.write(file, tiny.withLmHead().weights());
        return new MergeInput("base_model", config(), file);
    }

    /**
     * A copy of {@code from} fine-tuned on its MLPs (noise added), written with bare names in another order,
     * and with {@code alsoChanged} perturbed too.
     */
    private MergeInput descendant(MergeInput from, String field, long seed, String... alsoChanged) throws IOException {
        Path file = dir.resolve(field.replaceAll("\\W", "_") + ".safetensors");
        Random random = new Random(seed);
        List<SafetensorsWriter.Tensor> tensors = new ArrayList<>();
        try (SafetensorsReader reader = SafetensorsReader.open(from.weights())) {
            for (TensorInfo tensor : reader.tensors().values()) {
                String bare = Gpt2TensorLayout.bareName(tensor.name());
                float[] values = reader.floats(tensor.name());
                if (bare.contains(".mlp.") || List.of(alsoChanged).contains(bare)) {
                    for (int i = 0; i < values.length; i++) {
                        values[i] += (float) random.nextGaussian() * 0.01f;
                    }
                }
                tensors.add(0, new SafetensorsWriter.Tensor(bare, tensor.shape(), () -> values));
            }
        }
        SafetensorsWriter.write(file, tensors, DType.F32);
        return new MergeInput(field, from.config(), file);
    }

    private static MergeRecipe recipe(String yaml) throws InvalidMergeException {
        return MergeRecipe.of(MergekitConfig.parse(yaml));
    }

    /** Every tensor of the merged file equals the method applied to the inputs' float arrays. */
    private void assertMergedTensorByTensor(MergeRecipe recipe, MergeInput base, List<MergeInput> models, long seed,
            Path merged) throws Exception {
        Gpt2Config config = models.get(0).config();
        try (SafetensorsReader out = SafetensorsReader.open(merged)) {
            assertThat(out.tensors().keySet()).containsExactlyElementsOf(Gpt2TensorLayout.expected(config).keySet());
            for (Map.Entry<String, long[]> tensor : Gpt2TensorLayout.expected(config).entrySet()) {
                String name = tensor.getKey();
                List<float[]> values = new ArrayList<>();
                for (MergeInput model : models) {
                    values.add(read(model, name));
                }
                int layer = MergeRecipe.layerOf(name);
                float[] direct = recipe.method().merge(new TensorInputs(name, tensor.getValue(), layer, values,
                        base == null ? null : read(base, name), recipe.parametersFor(name, layer, config.nLayer()),
                        TensorInputs.random(seed, name)));
                assertThat(out.floats(name)).as(name).isEqualTo(direct);
                assertThat(out.tensors().get(name).dtype()).isEqualTo(DType.F32);
            }
        }
    }

    private static float[] read(MergeInput input, String bareName) throws IOException {
        try (SafetensorsReader reader = SafetensorsReader.open(input.weights())) {
            String stored = reader.tensors().containsKey(bareName) ? bareName : Gpt2TensorLayout.PREFIX + bareName;
            return reader.floats(stored);
        }
    }

    @Test
    void streamingMergesEqualMergingTheTensorsDirectly() throws Exception {
        MergeInput base = base();
        List<MergeInput> models = List.of(descendant(base, "models[1]", 2), descendant(base, "models[2]", 3),
                descendant(base, "models[3]", 4));
        List<String> configs = List.of("""
                merge_method: ties
                base_model: base
                models:
                  - model: a
                    parameters: {weight: [1, 0.5], density: 0.5}
                  - model: b
                    parameters: {weight: 0.7, density: [{filter: c_fc, value: 0.3}, {value: 0.9}]}
                  - model: c
                    parameters: {weight: 0.2, density: 0.4}
                """, """
                merge_method: dare_ties
                base_model: base
                models: [a, b, c]
                parameters: {weight: 0.5, density: 0.6}
                """, """
                merge_method: dare_linear
                base_model: base
                models: [a, b, c]
                parameters: {weight: 0.5, density: 0.6, lambda: 0.7}
                """, """
                merge_method: breadcrumbs_ties
                base_model: base
                models: [a, b, c]
                parameters: {weight: 1, density: 0.8, gamma: 0.05, normalize: true}
                """, """
                merge_method: model_stock
                base_model: base
                models: [a, b, c]
                """, """
                merge_method: linear
                models: [{model: a, parameters: {weight: 1}}, {model: b, parameters: {weight: 2}}, {model: c, parameters: {weight: 1}}]
                """);
        for (String yaml : configs) {
            MergeRecipe recipe = recipe(yaml);
            MergeInput mergeBase = recipe.baseModel() == null ? null : base;
            Path merged = dir.resolve(recipe.method().name() + ".safetensors");
            List<String> progress = new ArrayList<>();
            WeightMerger.Result result = WeightMerger.merge(recipe, mergeBase, models, 17, merged,
                    (tensor, done, total) -> progress.add(done + "/" + total + " " + tensor));
            int tensors = Gpt2TensorLayout.expected(config()).size();
            assertThat(result.tensors()).isEqualTo(tensors);
            assertThat(progress).hasSize(tensors).first().isEqualTo("1/" + tensors + " wte.weight");
            assertMergedTensorByTensor(recipe, mergeBase, models, 17, merged);
            assertThat(result.bytesWritten()).isEqualTo(SafetensorsHeader.read(merged).dataLength());
        }
    }

    @Test
    void aProgressListenerThatThrowsStopsTheMerge() throws Exception {
        MergeInput base = base();
        List<MergeInput> models = List.of(descendant(base, "models[0]", 12), descendant(base, "models[1]", 13));
        MergeRecipe recipe = recipe("merge_method: ties\nbase_model: base\nmodels: [a, b]\nparameters: {weight: 1, density: 0.5}\n");
        List<String> merged = new ArrayList<>();
        assertThatThrownBy(() -> WeightMerger.merge(recipe, base, models, 1, dir.resolve("cancelled"), (tensor, done, total) -> {
            merged.add(tensor);
            if (done == 3) {
                throw new IllegalStateException("cancelled");
            }
        })).isInstanceOf(IllegalStateException.class).hasMessage("cancelled");
        assertThat(merged).hasSize(3);
        // the helper thread is done (its last moments of exiting may still be under way)
        for (Thread thread : Thread.getAllStackTraces().keySet()) {
            if (thread.getName().equals("weight-merge-ahead")) {
                thread.join(5000);
                assertThat(thread.isAlive()).isFalse();
            }
        }
    }

    @Test
    void slerpsTwoCheckpointsAndDescribesTheMergeInTheMetadata() throws Exception {
        MergeInput base = base();
        List<MergeInput> models = List.of(descendant(base, "models[0]", 5, "h.0.attn.c_attn.weight"),
                descendant(base, "models[1]", 6));
        MergeRecipe recipe = recipe("""
                merge_method: slerp
                models: [a, b]
                parameters:
                  t: [{filter: mlp, value: [0, 1]}, {value: 0.3}]
                """);
        Path merged = dir.resolve("slerp.safetensors");
        WeightMerger.merge(recipe, null, models, 1, merged, (tensor, done, total) -> {});
        assertMergedTensorByTensor(recipe, null, models, 1, merged);
        SafetensorsHeader header = SafetensorsHeader.read(merged);
        assertThat(header.metadata()).containsEntry("format", "pt").containsKey(WeightMerger.METADATA_KEY);
        JsonNode description = JsonMapper.builder().build().readTree(header.metadata().get(WeightMerger.METADATA_KEY));
        assertThat(description.get("merge_method").stringValue()).isEqualTo("slerp");
        assertThat(description.get("models").get(1).get("model").stringValue()).isEqualTo("b");
        assertThat(description.get("parameters").get("t").get(0).get("filter").stringValue()).isEqualTo("mlp");
        assertThat(description.get("seed").longValue()).isEqualTo(1);
        // tied embeddings: no lm_head although the inputs' base stored one; a valid checkpoint of the config
        assertThat(header.tensors()).extracting(TensorInfo::name).doesNotContain("lm_head.weight");
        Gpt2TensorLayout.check(config(), header.tensors());
    }

    @Test
    void refusesCheckpointsOfAnotherShapeNamingTheTensor() throws Exception {
        MergeInput base = base();
        Path odd = dir.resolve("odd.safetensors");
        Files.write(odd, new TinyGpt2().shape("h.1.mlp.c_fc.weight", 8, 16).weights());
        List<MergeInput> models = List.of(descendant(base, "models[0]", 7), new MergeInput("models[1]", config(), odd));
        assertThat(MergeCompatibility.checkArchitecture(List.of(base, models.get(0), models.get(1)))).singleElement()
                .satisfies(p -> {
                    assertThat(p.field()).isEqualTo("models[1]");
                    assertThat(p.message()).contains("transformer.h.1.mlp.c_fc.weight").contains("[8, 16]");
                });
        MergeRecipe recipe = recipe("merge_method: ties\nbase_model: base\nmodels: [a, b]\nparameters: {weight: 1}\n");
        assertThatThrownBy(() -> WeightMerger.merge(recipe, base, models, 1, dir.resolve("out"), (t, d, n) -> {}))
                .isInstanceOfSatisfying(InvalidMergeException.class, e -> assertThat(e.problems().get(0).message())
                        .contains("h.1.mlp.c_fc.weight"));
        // Another architecture altogether: the config difference is named.
        TinyGpt2 wider = new TinyGpt2();
        wider.nEmbd = 16;
        Path wide = dir.resolve("wide.safetensors");
        Files.write(wide, wider.weights());
        assertThat(MergeCompatibility.checkArchitecture(List.of(base,
                new MergeInput("models[0]", Gpt2Config.parse(wider.config()), wide)))).singleElement()
                .satisfies(p -> assertThat(p.message()).startsWith("has n_embd 16 but base_model has n_embd 8"));
    }

    @Test
    void refusesModelsWhoseNonMlpTensorsDifferFromTheBaseNamingTheTensor() throws Exception {
        MergeInput base = base();
        List<MergeInput> models = List.of(descendant(base, "models[0]", 8),
                descendant(base, "models[1]", 9, "h.1.attn.c_proj.bias"));
        assertThat(MergeCompatibility.checkDescent(base, models.subList(0, 1))).isEmpty();
        assertThat(MergeCompatibility.checkDescent(base, models)).hasValueSatisfying(p -> {
            assertThat(p.field()).isEqualTo("models[1]");
            assertThat(p.message()).startsWith("tensor h.1.attn.c_proj.bias differs from the base model's");
        });
        MergeRecipe ties = recipe("merge_method: ties\nbase_model: base\nmodels: [a, b]\nparameters: {weight: 1}\n");
        assertThatThrownBy(() -> WeightMerger.merge(ties, base, models, 1, dir.resolve("out"), (t, d, n) -> {}))
                .isInstanceOfSatisfying(InvalidMergeException.class, e -> assertThat(e.problems()).singleElement()
                        .satisfies(p -> assertThat(p.message()).contains("h.1.attn.c_proj.bias")));
        // Methods that merge whole models do not care.
        MergeRecipe linear = recipe("merge_method: linear\nmodels: [a, b]\nparameters: {weight: 1}\n");
        WeightMerger.merge(linear, null, models, 1, dir.resolve("linear"), (t, d, n) -> {});
        assertMergedTensorByTensor(linear, null, models, 1, dir.resolve("linear"));
    }
}
