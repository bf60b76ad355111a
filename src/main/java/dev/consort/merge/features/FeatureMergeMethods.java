package dev.consort.merge.features;

import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

import dev.consort.merge.weights.MergeProblem;

/**
 * The feature-space merge methods by name. Adding one is a class implementing {@link FeatureMergeMethod} and
 * a line here.
 */
public final class FeatureMergeMethods {

    private static final Map<String, FeatureMergeMethod> BY_NAME = new LinkedHashMap<>();

    static {
        for (FeatureMergeMethod method : new FeatureMergeMethod[] {
                ActivationInterpolation.METHOD,
                SingleRouter.METHOD,
                LayerRouting.METHOD,
                MultiLayerRouting.METHOD}) {
            BY_NAME.put(method.name(), method);
        }
    }

    private FeatureMergeMethods() {}

    public static Optional<FeatureMergeMethod> byName(String name) {
        return Optional.ofNullable(BY_NAME.get(name));
    }

    /** The method of this name; IllegalArgumentException naming the known ones otherwise. */
    public static FeatureMergeMethod named(String name) {
        return byName(name).orElseThrow(() -> new IllegalArgumentException("unknown feature-space method \"" + name
                + "\"; one of " + names()));
    }

    public static Set<String> names() {
        return Collections.unmodifiableSet(BY_NAME.keySet());
    }

    public static Collection<FeatureMergeMethod> all() {
        return Collections.unmodifiableCollection(BY_NAME.values());
    }

    /**
     * A request's spec, checked against the members it will mix: unknown parameter names, the method's own
     * reading of its parameters, then {@link FeatureMergeMethod#problems}. Null when there are problems.
     */
    public static RoutingSpec spec(FeatureMergeMethod method, Map<String, Object> parameters, long seed,
            FeatureMergeMethod.Members members, List<MergeProblem> problems) {
        int before = problems.size();
        for (String name : parameters.keySet()) {
            if (!method.parameters().containsKey(name)) {
                problems.add(new MergeProblem("parameters." + name, "not a parameter of " + method.name()
                        + "; it takes " + new TreeSet<>(method.parameters().keySet())));
            }
        }
        if (problems.size() > before) {
            return null;
        }
        RoutingSpec spec = method.spec(parameters, seed, problems);
        if (spec == null || problems.size() > before) {
            return null;
        }
        problems.addAll(method.problems(spec, members));
        return problems.size() > before ? null : spec;
    }
}
