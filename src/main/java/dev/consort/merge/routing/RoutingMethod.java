package dev.consort.merge.routing;

/** The feature-space merge methods (DESIGN, "Merge methods"), by their wire names. */
public enum RoutingMethod {

    /** MLP(h) = α·MLP_A(h) + (1−α)·MLP_B(h) at every layer; two experts, no routers. */
    ACTIVATION_INTERPOLATION("activation_interpolation"),
    /** One router on layer 0's MLP input; its per-token weights mix the experts' MLPs at every layer. */
    SINGLE_ROUTER("single_router"),
    /** A router per layer on ln_2(h), mixing the experts' MLPs of that layer. */
    LAYER_ROUTING("layer_routing"),
    /** A router per layer mixing the experts' MLPs of a window of {@code span} layers. */
    MULTI_LAYER_ROUTING("multi_layer_routing");

    private final String wireName;

    RoutingMethod(String wireName) {
        this.wireName = wireName;
    }

    public String wireName() {
        return wireName;
    }

    /** Whether the method learns routers (everything but activation interpolation). */
    public boolean routed() {
        return this != ACTIVATION_INTERPOLATION;
    }

    public static RoutingMethod fromWireName(String name) {
        for (RoutingMethod method : values()) {
            if (method.wireName.equals(name)) {
                return method;
            }
        }
        throw new IllegalArgumentException("unknown feature-space method \"" + name + "\"");
    }
}
