package dev.consort.merge.weights;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.List;
import java.util.Map;

import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.Test;

import dev.consort.engine.Gpt2Config;
import dev.consort.merge.weights.ParameterSetting.Conditional;
import dev.consort.merge.weights.ParameterSetting.Filtered;
import dev.consort.merge.weights.ParameterSetting.Flag;
import dev.consort.merge.weights.ParameterSetting.Gradient;
import dev.consort.merge.weights.ParameterSetting.Scalar;

/** mergekit configs as people write them (the README's examples with GPT-2 names), and the ones refused. */
class MergekitConfigTest {

    private static final Gpt2Config TWELVE_LAYERS = new Gpt2Config(12, 8, 2, 32, 64, 16, 1e-5);

    private static MergeRecipe recipe(String yaml) throws InvalidMergeException {
        return MergeRecipe.of(MergekitConfig.parse(yaml));
    }

    private static double number(MergeRecipe recipe, String parameter, String tensor, int model) throws InvalidMergeException {
        return recipe.parametersFor(tensor, MergeRecipe.layerOf(tensor), 12).number(parameter, model);
    }

    @Test
    void tiesWithGradientAndFilteredPerModelParameters() throws Exception {
        MergeRecipe recipe = recipe("""
                models:
                  - model: gpt2-base
                    # no parameters necessary for the base model
                  - model: math
                    parameters:
                      density: [1, 0.7, 0.1] # density gradient
                      weight: 1.0
                  - model: code
                    parameters:
                      density: 0.5
                      weight: [0, 0.3, 0.7, 1] # weight gradient
                  - model: chat
                    parameters:
                      density: 0.33
                      weight:
                        - filter: mlp
                          value: 0.5
                        - value: 0
                merge_method: ties
                base_model: gpt2-base
                parameters:
                  normalize: true
                  int8_mask: true
                dtype: float16
                """);
        assertThat(recipe.method().name()).isEqualTo("ties");
        assertThat(recipe.baseModel()).isEqualTo("gpt2-base");
        assertThat(recipe.models()).extracting(MergeRecipe.Model::model).containsExactly("math", "code", "chat");
        assertThat(recipe.models()).extracting(MergeRecipe.Model::field).containsExactly("models[1]", "models[2]", "models[3]");
        assertThat(recipe.request().models().get(1).parameters()).containsEntry("density", new Gradient(List.of(1.0, 0.7, 0.1)));
        assertThat(recipe.request().models().get(3).parameters().get("weight")).isEqualTo(new Filtered(List.of(
                new Conditional("mlp", new Scalar(0.5)), new Conditional(null, new Scalar(0)))));
        assertThat(recipe.request().parameters()).containsEntry("normalize", new Flag(true));
        assertThat(recipe.check(TWELVE_LAYERS)).isEmpty();
        // density [1, 0.7, 0.1] over 12 layers: layer 0 → 1, layer 11 → 0.1, the embeddings (t = 0) → 1.
        assertThat(number(recipe, "density", "h.0.mlp.c_fc.weight", 0)).isEqualTo(1);
        assertThat(number(recipe, "density", "h.11.mlp.c_fc.weight", 0)).isCloseTo(0.1, within(1e-12));
        assertThat(number(recipe, "density", "wte.weight", 0)).isEqualTo(1);
        // weight [0, 0.3, 0.7, 1]: layer 11 → 1; the chat model's weight 0.5 on MLP tensors, 0 elsewhere.
        assertThat(number(recipe, "weight", "h.11.attn.c_attn.weight", 1)).isEqualTo(1);
        assertThat(number(recipe, "weight", "h.4.mlp.c_proj.bias", 2)).isEqualTo(0.5);
        assertThat(number(recipe, "weight", "h.4.attn.c_proj.bias", 2)).isEqualTo(0);
        assertThat(recipe.parametersFor("ln_f.weight", -1, 12).flag("normalize")).isTrue();
    }

    @Test
    void slerpOverAWholeModelSliceWithFilteredGradients() throws Exception {
        MergeRecipe recipe = recipe("""
                slices:
                  - sources:
                      - model: code
                        layer_range: [0, 12]
                      - model: math
                        layer_range: [0, 12]
                merge_method: slerp
                base_model: math
                parameters:
                  t:
                    - filter: attn
                      value: [0, 0.5, 0.3, 0.7, 1]
                    - filter: mlp
                      value: [1, 0.5, 0.7, 0.3, 0]
                    - value: 0.5 # fallback for rest of tensors
                dtype: bfloat16
                """);
        // base_model is the t = 0 end, whatever its place in the list.
        assertThat(recipe.models()).extracting(MergeRecipe.Model::model).containsExactly("math", "code");
        assertThat(recipe.request().layers()).isEqualTo(12);
        assertThat(recipe.check(TWELVE_LAYERS)).isEmpty();
        assertThat(recipe.check(new Gpt2Config(6, 8, 2, 32, 64, 16, 1e-5)))
                .extracting(MergeProblem::field).containsExactly("slices");
        // attn at layer 0 → 0, at layer 11 → 1; mlp reversed; everything else 0.5.
        assertThat(recipe.parametersFor("h.0.attn.c_attn.weight", 0, 12).number("t")).isEqualTo(0);
        assertThat(recipe.parametersFor("h.11.attn.c_attn.weight", 11, 12).number("t")).isEqualTo(1);
        assertThat(recipe.parametersFor("h.0.mlp.c_fc.weight", 0, 12).number("t")).isEqualTo(1);
        assertThat(recipe.parametersFor("h.5.ln_1.weight", 5, 12).number("t")).isEqualTo(0.5);
        assertThat(recipe.parametersFor("wte.weight", -1, 12).number("t")).isEqualTo(0.5);
    }

    @Test
    void dareTiesLinearTaskArithmeticModelStockAndBreadcrumbs() throws Exception {
        MergeRecipe dare = recipe("""
                models:
                  - model: base
                    # No parameters necessary for base model
                  - model: math
                    parameters:
                      density: 0.53
                      weight: 0.4
                  - model: code
                    parameters:
                      density: 0.53
                      weight: 0.3
                merge_method: dare_ties
                base_model: base
                parameters:
                  int8_mask: true
                dtype: bfloat16
                """);
        assertThat(dare.models()).extracting(MergeRecipe.Model::model).containsExactly("math", "code");
        TensorParameters p = dare.parametersFor("h.2.mlp.c_fc.weight", 2, 12);
        assertThat(p.numbers("density")).containsExactly(0.53, 0.53);
        assertThat(p.numbers("weight")).containsExactly(0.4, 0.3);
        assertThat(p.flag("rescale")).isTrue();
        assertThat(p.flag("normalize")).isFalse();

        MergeRecipe linear = recipe("""
                models:
                  - model: math
                    parameters:
                      weight: 1.0
                  - model: code
                    parameters:
                      weight: 0.3
                merge_method: linear
                dtype: float16
                """);
        assertThat(linear.baseModel()).isNull();
        assertThat(linear.parametersFor("wte.weight", -1, 12).numbers("weight")).containsExactly(1.0, 0.3);

        MergeRecipe taskArithmetic = recipe("""
                base_model: base
                models:
                  - model: math
                    parameters: {weight: 0.5}
                  - model: code
                    parameters: {weight: 0.5}
                merge_method: task_arithmetic
                parameters:
                  lambda: 0.8
                  normalize: false
                dtype: float32
                out_dtype: float32
                """);
        assertThat(taskArithmetic.parametersFor("h.0.mlp.c_fc.bias", 0, 12).number("lambda")).isEqualTo(0.8);
        assertThat(taskArithmetic.outputDtype()).isEqualTo(dev.consort.safetensors.DType.F32);

        MergeRecipe modelStock = recipe("""
                models:
                  - model: math
                  - model: code
                  - model: chat
                merge_method: model_stock
                base_model: base
                dtype: bfloat16
                """);
        assertThat(modelStock.models()).hasSize(3);
        // mergekit writes out_dtype, or else dtype: so does Consort.
        assertThat(modelStock.outputDtype()).isEqualTo(dev.consort.safetensors.DType.BF16);
        assertThat(modelStock.parametersFor("wte.weight", -1, 12).flag("filter_wise")).isFalse();

        MergeRecipe breadcrumbs = recipe("""
                models:
                  - model: math
                    parameters: {weight: 0.5, density: 0.9, gamma: 0.01}
                  - model: code
                    parameters: {weight: 0.5, density: 0.9, gamma: 0.01}
                merge_method: breadcrumbs
                base_model: base
                """);
        assertThat(breadcrumbs.parametersFor("wte.weight", -1, 12).numbers("gamma")).containsExactly(0.01, 0.01);
    }

    @Test
    void describesTheRequestInMergekitLayout() throws Exception {
        MergeRecipe recipe = recipe("""
                merge_method: ties
                base_model: base
                models:
                  - model: math
                    parameters: {weight: [0, 1], density: 0.5}
                parameters:
                  lambda: 0.9
                """);
        assertThat(recipe.describe()).isEqualTo(Map.of(
                "merge_method", "ties",
                "base_model", "base",
                "models", List.of(Map.of("model", "math", "parameters", Map.of("weight", List.of(0.0, 1.0), "density", 0.5))),
                "parameters", Map.of("lambda", 0.9)));
        // The description reads back as the same request.
        assertThat(MergekitConfig.parse(new org.yaml.snakeyaml.Yaml().dump(recipe.describe()))).isEqualTo(recipe.request());
    }

    private static void refused(String yaml, String field, String messagePart) {
        ThrowingCallable parse = () -> recipe(yaml);
        assertThatThrownBy(parse).isInstanceOfSatisfying(InvalidMergeException.class, e ->
                assertThat(e.problems()).anySatisfy(p -> {
                    assertThat(p.field()).isEqualTo(field);
                    assertThat(p.message()).contains(messagePart);
                }));
    }

    private static final String TIES = """
            merge_method: ties
            base_model: base
            models:
              - model: math
                parameters: {weight: 1, density: 0.5}
            """;

    @Test
    void theMergedWeightsAreWrittenInOutDtypeOrElseDtype() throws Exception {
        assertThat(recipe(TIES + "dtype: float16\n").outputDtype()).isEqualTo(dev.consort.safetensors.DType.F16);
        assertThat(recipe(TIES + "dtype: float16\nout_dtype: float32\n").outputDtype())
                .isEqualTo(dev.consort.safetensors.DType.F32);
        assertThat(recipe(TIES + "dtype: float32\nout_dtype: bfloat16\n").outputDtype())
                .isEqualTo(dev.consort.safetensors.DType.BF16);
        assertThat(recipe(TIES).outputDtype()).isEqualTo(dev.consort.safetensors.DType.F32);
    }

    @Test
    void refusesWhatItDoesNotSupportByName() {
        refused(TIES + "tokenizer_source: union\n", "tokenizer_source", "GPT-2 tokenizer");
        refused(TIES + "chat_template: chatml\n", "chat_template", "not supported");
        refused(TIES + "foo: 1\n", "foo", "unsupported key");
        refused(TIES + "out_dtype: float8\n", "out_dtype", "[bfloat16, float16, float32]");
        refused(TIES + "dtype: int8\n", "dtype", "[bfloat16, float16, float32]");
        refused(TIES + "modules: {}\n", "modules", "not supported");
        refused("""
                merge_method: ties
                base_model: base
                models:
                  - model: math
                    lora: adapter
                    parameters: {weight: 1}
                """, "models[0].lora", "unsupported key");
        refused("""
                merge_method: linear
                slices:
                  - sources:
                      - model: a
                        layer_range: [0, 6]
                  - sources:
                      - model: a
                        layer_range: [6, 12]
                parameters: {weight: 1}
                """, "slices", "whole-model");
        refused("""
                merge_method: slerp
                slices:
                  - sources:
                      - model: a
                        layer_range: [0, 12]
                      - model: b
                        layer_range: [2, 14]
                parameters: {t: 0.5}
                """, "slices[0].sources[1].layer_range", "[0, n_layer]");
    }

    @Test
    void refusesMalformedConfigs() {
        refused("merge_method: [ties\n", "config", "not valid YAML");
        refused("- just\n- a list\n", "config", "mapping");
        refused("merge_method: ties\nmerge_method: linear\nmodels: [a]\n", "config", "duplicate key");
        refused("base_model: base\nmodels: [{model: a, parameters: {weight: 1}}]\n", "merge_method", "missing");
        refused("merge_method: ties\nbase_model: base\n", "models", "missing");
        refused("merge_method: frankenmerge\nmodels: [a]\n", "merge_method", "unknown method");
        refused("merge_method: ties\nbase_model: base\nmodels: [{model: a, parameters: {weight: high}}]\n",
                "models[0].parameters.weight", "the string \"high\"");
        refused("merge_method: ties\nbase_model: base\nmodels: [{model: a, parameters: {weight: .nan}}]\n",
                "models[0].parameters.weight", "finite");
        refused("merge_method: ties\nbase_model: base\nmodels: [{model: 123, parameters: {weight: 1}}]\n",
                "models[0].model", "quote");
        refused("merge_method: ties\nbase_model: base\nmodels: [{model: a, parameters: {weight: [{filter: mlp, value: 1, else: 2}]}}]\n",
                "models[0].parameters.weight[0].else", "unsupported key");
    }

    @Test
    void refusesParametersOutOfRangeNamingTheField() {
        refused(TIES.replace("density: 0.5", "density: 0"), "models[0].parameters.density", "in (0, 1]");
        refused(TIES.replace("density: 0.5", "density: [1, 1.5]"), "models[0].parameters.density[1]", "in (0, 1]");
        refused(TIES + "parameters: {lambda: .inf}\n", "parameters.lambda", "finite");
        refused(TIES + "parameters: {normalize: 3}\n", "parameters.normalize", "true or false");
        refused(TIES + "parameters: {t: 0.5}\n", "parameters.t", "not a parameter of ties");
        refused(TIES.replace("density: 0.5", "density: 0.5, lambda: 2"), "models[0].parameters.lambda", "top-level");
        refused(TIES.replace("{weight: 1, density: 0.5}", "{density: 0.5}"), "models[0].parameters.weight", "required");
        refused(TIES.replace("base_model: base\n", ""), "base_model", "required");
        refused("""
                merge_method: breadcrumbs
                base_model: base
                models:
                  - model: math
                    parameters: {weight: 1, gamma: 1}
                """, "models[0].parameters.gamma", "in [0, 1)");
        refused("""
                merge_method: slerp
                base_model: a
                models: [a, b, c]
                parameters: {t: 0.5}
                """, "models", "exactly 2");
        refused("""
                merge_method: slerp
                base_model: a
                models: [a, b]
                parameters: {t: 1.5}
                """, "parameters.t", "in [0, 1]");
        refused("""
                merge_method: model_stock
                base_model: base
                models: [base, a]
                """, "models", "at least 2");
        refused("""
                merge_method: ties
                base_model: base
                models:
                  - model: base
                    parameters: {weight: 1}
                  - model: a
                    parameters: {weight: 1}
                """, "models[0].parameters", "base model takes no parameters");
        refused("""
                merge_method: linear
                base_model: base
                models: [{model: a, parameters: {weight: 1}}]
                """, "base_model", "list base under models");
        refused("""
                merge_method: linear
                models: [{model: a, parameters: {weight: 1}}, {model: a, parameters: {weight: 2}}]
                """, "models[1].model", "again");
    }

    @Test
    void aFilterListWithoutACatchAllIsFoundBeforeMerging() throws Exception {
        MergeRecipe recipe = recipe("""
                merge_method: task_arithmetic
                base_model: base
                models:
                  - model: a
                    parameters:
                      weight: [{filter: mlp, value: 1}]
                """);
        assertThat(recipe.check(TWELVE_LAYERS)).first().satisfies(p -> {
            assertThat(p.field()).isEqualTo("models[0].parameters.weight");
            assertThat(p.message()).contains("wte.weight");
        });
        // A top-level weight catches what the model's own filters leave out.
        recipe = recipe("""
                merge_method: task_arithmetic
                base_model: base
                models:
                  - model: a
                    parameters:
                      weight: [{filter: mlp, value: 1}]
                parameters: {weight: 0.25}
                """);
        assertThat(recipe.check(TWELVE_LAYERS)).isEmpty();
        assertThat(recipe.parametersFor("wte.weight", -1, 12).number("weight", 0)).isEqualTo(0.25);
        assertThat(recipe.parametersFor("h.1.mlp.c_fc.weight", 1, 12).number("weight", 0)).isEqualTo(1);
    }

    @Test
    void linearWeightsThatCancelCannotBeNormalized() throws Exception {
        MergeRecipe recipe = recipe("""
                merge_method: linear
                models:
                  - model: a
                    parameters: {weight: [{filter: mlp, value: -1}, {value: 1}]}
                  - model: b
                    parameters: {weight: 1}
                """);
        assertThat(recipe.check(TWELVE_LAYERS)).first().satisfies(p -> {
            assertThat(p.field()).isEqualTo("parameters.normalize");
            assertThat(p.message()).contains("h.0.mlp.c_fc.weight");
        });
    }

    @Test
    void gradientsSpreadOverTheLayersAsMergekitPlansThem() throws Exception {
        MergeRecipe recipe = recipe("""
                merge_method: slerp
                models: [a, b]
                parameters: {t: [0, 0.5, 0.3, 0.7, 1]}
                """);
        // Five layers: layer i gets entry i; the embeddings and the final norm get t = 0, the first entry.
        for (int layer = 0; layer < 5; layer++) {
            assertThat(recipe.parametersFor("h." + layer + ".ln_1.bias", layer, 5).number("t"))
                    .isCloseTo(new double[] {0, 0.5, 0.3, 0.7, 1}[layer], within(1e-12));
        }
        assertThat(recipe.parametersFor("ln_f.bias", -1, 5).number("t")).isEqualTo(0);
        // Three layers: layer 1 sits at t = 1/2, index 2 of the list; nine layers: layer 1 at t = 1/8,
        // between entries 0 and 1: 0.5 · 0.5 = 0.25.
        assertThat(recipe.parametersFor("h.1.ln_1.bias", 1, 3).number("t")).isCloseTo(0.3, within(1e-12));
        assertThat(recipe.parametersFor("h.1.ln_1.bias", 1, 9).number("t")).isCloseTo(0.25, within(1e-12));
        // A single layer sits at t = 1.
        assertThat(recipe.parametersFor("h.0.ln_1.bias", 0, 1).number("t")).isEqualTo(1);
    }

    @Test
    void theNewerMethodsReadTheirParametersFromYaml() throws Exception {
        MergeRecipe della = recipe("""
                models:
                  - model: math
                    parameters: {weight: 1.0, density: 0.5, epsilon: 0.1}
                  - model: code
                    parameters: {weight: 0.5, density: 0.7}
                merge_method: della
                base_model: gpt2-base
                parameters: {lambda: 0.9}
                """);
        assertThat(number(della, "epsilon", "h.0.mlp.c_fc.weight", 0)).isEqualTo(0.1);
        assertThat(number(della, "epsilon", "h.0.mlp.c_fc.weight", 1)).isEqualTo(0.15);          // mergekit's default
        assertThat(della.parametersFor("h.0.mlp.c_fc.weight", 0, 12).number("lambda")).isEqualTo(0.9);
        MergeRecipe sce = recipe("""
                models: [{model: math}, {model: code}]
                merge_method: sce
                base_model: gpt2-base
                parameters: {select_topk: 0.1}
                """);
        assertThat(sce.parametersFor("wte.weight", -1, 12).number("select_topk")).isEqualTo(0.1);
        MergeRecipe nearswap = recipe("""
                models: [{model: chat}]
                merge_method: nearswap
                base_model: gpt2-base
                parameters: {t: 0.0001}
                """);
        assertThat(nearswap.parametersFor("wte.weight", -1, 12).number("t")).isEqualTo(0.0001);
        assertThat(recipe("""
                models: [{model: a}, {model: b}, {model: c}]
                merge_method: karcher
                """).parametersFor("wte.weight", -1, 12).number("max_iter")).isEqualTo(10);
    }
}
