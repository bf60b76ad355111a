package dev.consort.merge.routing;

/**
 * What a routed model is, apart from its models: the method and its parameters. Start from a factory
 * ({@link #activationInterpolation}, {@link #singleRouter}, {@link #layerRouting}, {@link #multiLayerRouting})
 * and adjust with the {@code with…} methods.
 *
 * @param method      the feature-space method
 * @param router      the router kind; null for activation interpolation
 * @param includeBase whether the base model's MLP is one more expert (after the experts); router methods only
 * @param span        layers per router window, 1 … {@value LayerRouting#MAX_SPAN}; above 1 only for
 *                    multi_layer_routing
 * @param topK        keep the k largest weights per token and renormalise; null for dense weights
 * @param alpha       the weight of expert A in activation interpolation, in [0, 1]; null for router methods
 * @param seed        seed of the routers' initial weights
 */
public record RoutingSpec(RoutingMethod method, RouterKind router, boolean includeBase, int span, Integer topK,
        Double alpha, long seed) {

    public RoutingSpec {
        require(method != null, "method must be set");
        if (method.routed()) {
            require(router != null, method.wireName() + " needs a router kind");
            require(alpha == null, "alpha applies to activation_interpolation only");
        } else {
            require(router == null && !includeBase && topK == null,
                    "activation_interpolation has no router, include_base or top_k");
            require(alpha != null && alpha >= 0 && alpha <= 1, "alpha must be in [0, 1]");
        }
        if (method == RoutingMethod.MULTI_LAYER_ROUTING) {
            require(span >= 1 && span <= LayerRouting.MAX_SPAN, "span must be between 1 and " + LayerRouting.MAX_SPAN);
        } else {
            require(span == 1, "span applies to multi_layer_routing only");
        }
        require(topK == null || topK >= 1, "top_k must be at least 1");
    }

    /** Activation interpolation with expert A weighted {@code alpha}. */
    public static RoutingSpec activationInterpolation(double alpha) {
        return new RoutingSpec(RoutingMethod.ACTIVATION_INTERPOLATION, null, false, 1, null, alpha, 0);
    }

    /** One router at layer 0's MLP input mixing every layer; dense, experts only, seed 0. */
    public static RoutingSpec singleRouter(RouterKind router) {
        return new RoutingSpec(RoutingMethod.SINGLE_ROUTER, router, false, 1, null, null, 0);
    }

    /** A router per layer; dense, experts only, seed 0. */
    public static RoutingSpec layerRouting(RouterKind router) {
        return new RoutingSpec(RoutingMethod.LAYER_ROUTING, router, false, 1, null, null, 0);
    }

    /** A router per layer over windows of {@code span} layers; dense, experts only, seed 0. */
    public static RoutingSpec multiLayerRouting(RouterKind router, int span) {
        return new RoutingSpec(RoutingMethod.MULTI_LAYER_ROUTING, router, false, span, null, null, 0);
    }

    public RoutingSpec withIncludeBase(boolean value) {
        return new RoutingSpec(method, router, value, span, topK, alpha, seed);
    }

    /** Top-k routing; null for dense. */
    public RoutingSpec withTopK(Integer value) {
        return new RoutingSpec(method, router, includeBase, span, value, alpha, seed);
    }

    public RoutingSpec withSeed(long value) {
        return new RoutingSpec(method, router, includeBase, span, topK, alpha, value);
    }

    private static void require(boolean condition, String message) {
        if (!condition) {
            throw new IllegalArgumentException(message);
        }
    }
}
