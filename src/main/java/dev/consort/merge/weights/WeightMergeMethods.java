package dev.consort.merge.weights;

import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/** The weight-space merge methods by name. Adding one is a class implementing {@link WeightMergeMethod} and a line here. */
public final class WeightMergeMethods {

    private static final Map<String, WeightMergeMethod> BY_NAME = new LinkedHashMap<>();

    static {
        for (WeightMergeMethod method : new WeightMergeMethod[] {
                new LinearMerge(),
                new LerpMerge(),
                new SlerpMerge(),
                new TaskArithmeticMerge(),
                new TiesMerge(),
                new DareLinearMerge(),
                new DareTiesMerge(),
                new BreadcrumbsMerge(),
                new BreadcrumbsTiesMerge(),
                new ModelStockMerge(),
                new DellaMerge(),
                new DellaLinearMerge(),
                new NearswapMerge(),
                new KarcherMerge(),
                new SceMerge()}) {
            BY_NAME.put(method.name(), method);
        }
    }

    private WeightMergeMethods() {}

    public static Optional<WeightMergeMethod> byName(String name) {
        return Optional.ofNullable(BY_NAME.get(name));
    }

    public static Set<String> names() {
        return java.util.Collections.unmodifiableSet(BY_NAME.keySet());
    }

    public static Collection<WeightMergeMethod> all() {
        return java.util.Collections.unmodifiableCollection(BY_NAME.values());
    }
}
