package dev.consort.merge.features;

import java.util.List;

/**
 * What a routed model is, apart from its models: the feature-space method and its parameters. Start from a
 * factory ({@link #activationInterpolation}, {@link #singleRouter}, {@link #layerRouting},
 * {@link #multiLayerRouting}) and adjust with the {@code with…} methods. The values are checked here one by one;
 * whether they fit the method and its models is {@link FeatureMergeMethod#problems}, which
 * {@link RoutedModel#create} asks.
 *
 * @param method      the feature-space method
 * @param router      the router kind; null for methods without routers
 * @param includeBase whether the base model's MLP is one more expert (after the experts); router methods only
 * @param span        layers per router window, 1 … {@value LayerRouting#MAX_SPAN}; above 1 only for
 *                    multi_layer_routing
 * @param topK        keep the k largest weights per token and renormalise; null for dense weights
 * @param alpha       the weight of expert A in activation interpolation, in [0, 1]; null for router methods
 * @param alphas      the α values activation interpolation searches on the adaptation data (α is then the
 *                    best of them); empty when α is fixed, and for router methods. Not part of a saved model.
 * @param seed        seed of the routers' initial weights
 */
public record RoutingSpec(FeatureMergeMethod method, RouterKind router, boolean includeBase, int span, Integer topK,
        Double alpha, List<Double> alphas, long seed) {

    public RoutingSpec {
        require(method != null, "method must be set");
        require(span >= 1 && span <= LayerRouting.MAX_SPAN, "span must be between 1 and " + LayerRouting.MAX_SPAN);
        require(topK == null || topK >= 1, "top_k must be at least 1");
        require(alpha == null || (alpha >= 0 && alpha <= 1), "alpha must be in [0, 1]");
        alphas = alphas == null ? List.of() : List.copyOf(alphas);
        for (double value : alphas) {
            require(value >= 0 && value <= 1, "every α searched must be in [0, 1], not " + value);
        }
    }

    /** Activation interpolation with expert A weighted {@code alpha}. */
    public static RoutingSpec activationInterpolation(double alpha) {
        return new RoutingSpec(ActivationInterpolation.METHOD, null, false, 1, null, alpha, List.of(), 0);
    }

    /** One router at layer 0's MLP input mixing every layer; dense, experts only, seed 0. */
    public static RoutingSpec singleRouter(RouterKind router) {
        return new RoutingSpec(SingleRouter.METHOD, router, false, 1, null, null, List.of(), 0);
    }

    /** A router per layer; dense, experts only, seed 0. */
    public static RoutingSpec layerRouting(RouterKind router) {
        return new RoutingSpec(LayerRouting.METHOD, router, false, 1, null, null, List.of(), 0);
    }

    /** A router per layer over windows of {@code span} layers; dense, experts only, seed 0. */
    public static RoutingSpec multiLayerRouting(RouterKind router, int span) {
        return new RoutingSpec(MultiLayerRouting.METHOD, router, false, span, null, null, List.of(), 0);
    }

    public RoutingSpec withIncludeBase(boolean value) {
        return new RoutingSpec(method, router, value, span, topK, alpha, alphas, seed);
    }

    /** Top-k routing; null for dense. */
    public RoutingSpec withTopK(Integer value) {
        return new RoutingSpec(method, router, includeBase, span, value, alpha, alphas, seed);
    }

    public RoutingSpec withSeed(long value) {
        return new RoutingSpec(method, router, includeBase, span, topK, alpha, alphas, value);
    }

    /** The same model with α fixed at {@code value} and nothing left to search. */
    public RoutingSpec withAlpha(double value) {
        return new RoutingSpec(method, router, includeBase, span, topK, value, List.of(), seed);
    }

    private static void require(boolean condition, String message) {
        if (!condition) {
            throw new IllegalArgumentException(message);
        }
    }
}
