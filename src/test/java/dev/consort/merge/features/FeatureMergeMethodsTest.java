package dev.consort.merge.features;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import ai.djl.Device;
import dev.consort.engine.Gpt2Config;
import dev.consort.engine.Gpt2Model;
import dev.consort.merge.weights.MergeProblem;

/**
 * The feature-space registry: a request's parameters are read and checked by the method itself, and the checks
 * a merge job makes at submission are the ones {@link RoutedModel#create} makes, so the two cannot disagree.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class FeatureMergeMethodsTest {

    private Gpt2Model base;
    private Gpt2Model expertA;
    private Gpt2Model expertB;

    @BeforeAll
    void models() {
        // Three layers of width 16: every span up to 3 fits.
        Gpt2Config config = new Gpt2Config(3, 16, 2, 64, 64, 16, 1e-5);
        base = Gpt2Model.randomInit(config, 1, Device.cpu());
        expertA = Gpt2Model.randomInit(config, 2, Device.cpu());
        expertB = Gpt2Model.randomInit(config, 3, Device.cpu());
    }

    @AfterAll
    void close() {
        base.close();
        expertA.close();
        expertB.close();
    }

    @Test
    void everyMethodIsFoundByItsName() {
        assertThat(FeatureMergeMethods.names()).containsExactly("activation_interpolation", "single_router",
                "layer_routing", "multi_layer_routing");
        for (FeatureMergeMethod method : FeatureMergeMethods.all()) {
            assertThat(FeatureMergeMethods.named(method.name())).isSameAs(method);
            assertThat(method.parameters()).isNotEmpty();
        }
        assertThatThrownBy(() -> FeatureMergeMethods.named("frankenrouting")).hasMessageContaining("layer_routing");
    }

    /** top_k is bounded by the experts each router scores, span × members, at submission as in the model. */
    @Test
    void topKIsCheckedTheSameWayAtSubmissionAndWhenTheModelIsMade() {
        int layers = base.config().nLayer();
        for (String method : List.of("layer_routing", "multi_layer_routing", "single_router")) {
            for (int topK = 1; topK <= 6; topK++) {
                Map<String, Object> parameters = method.equals("multi_layer_routing")
                        ? Map.of("top_k", topK, "span", 2) : Map.of("top_k", topK);
                List<MergeProblem> problems = new ArrayList<>();
                RoutingSpec spec = FeatureMergeMethods.spec(FeatureMergeMethods.named(method), parameters, 7,
                        new FeatureMergeMethod.Members(2, true, layers), problems);
                int scored = method.equals("multi_layer_routing") ? 4 : 2;
                assertThat(problems.isEmpty()).as("%s top_k %d: %s", method, topK, problems).isEqualTo(topK <= scored);
                if (spec == null) {
                    assertThat(problems).extracting(MergeProblem::field).contains("parameters.top_k");
                    RoutingSpec unchecked = FeatureMergeMethods.named(method).spec(parameters, 7, new ArrayList<>());
                    assertThatThrownBy(() -> RoutedModel.create(unchecked, base, List.of(expertA, expertB)))
                            .hasMessageContaining("top_k " + topK);
                } else {
                    RoutedModel.create(spec, base, List.of(expertA, expertB)).close();
                }
            }
        }
    }

    @Test
    void parametersAreReadByTheMethodAndUnknownOnesNamed() {
        List<MergeProblem> problems = new ArrayList<>();
        FeatureMergeMethod.Members two = new FeatureMergeMethod.Members(2, false, base.config().nLayer());
        RoutingSpec spec = FeatureMergeMethods.spec(FeatureMergeMethods.named("multi_layer_routing"),
                Map.of("router", "mlp", "span", 2), 3, two, problems);
        assertThat(problems).isEmpty();
        assertThat(spec).isEqualTo(RoutingSpec.multiLayerRouting(RouterKind.MLP, 2).withSeed(3));

        FeatureMergeMethods.spec(FeatureMergeMethods.named("layer_routing"), Map.of("span", 2), 0, two, problems);
        assertThat(problems).extracting(MergeProblem::field).containsExactly("parameters.span");
        assertThat(problems.get(0).message()).contains("router", "top_k", "include_base");

        problems.clear();
        FeatureMergeMethods.spec(FeatureMergeMethods.named("layer_routing"), Map.of("include_base", true), 0, two,
                problems);
        assertThat(problems).extracting(MergeProblem::field).containsExactly("parameters.include_base");

        problems.clear();
        FeatureMergeMethods.spec(FeatureMergeMethods.named("activation_interpolation"), Map.of("alpha", 0.3), 0,
                new FeatureMergeMethod.Members(3, false, base.config().nLayer()), problems);
        assertThat(problems).extracting(MergeProblem::field).containsExactly("experts");
    }

    @Test
    void activationInterpolationSearchesOnlyWhenItHasSeveralAlphas() {
        FeatureMergeMethod method = FeatureMergeMethods.named("activation_interpolation");
        List<MergeProblem> problems = new ArrayList<>();
        RoutingSpec fixed = method.spec(Map.of("alpha", 0.25), 0, problems);
        RoutingSpec grid = method.spec(Map.of(), 0, problems);
        RoutingSpec one = method.spec(Map.of("alphas", List.of(0.6)), 0, problems);
        assertThat(problems).isEmpty();
        assertThat(method.adaptation(fixed)).isNull();
        assertThat(method.adaptation(one)).isNull();
        assertThat(one.alpha()).isEqualTo(0.6);
        assertThat(method.adaptation(grid)).isEqualTo("searches α");
        assertThat(grid.alphas()).isEqualTo(AlphaSearch.DEFAULT_GRID);
        assertThat(method.spec(Map.of("alpha", 0.2, "alphas", List.of(0.1, 0.9)), 0, problems)).isNull();
        assertThat(problems).extracting(MergeProblem::field).containsExactly("parameters.alphas");
    }
}
