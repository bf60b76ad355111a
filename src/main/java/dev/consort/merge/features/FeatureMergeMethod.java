package dev.consort.merge.features;

import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import ai.djl.ndarray.NDManager;
import dev.consort.engine.Gpt2Config;
import dev.consort.engine.Gpt2Model;
import dev.consort.merge.weights.MergeProblem;

/**
 * A feature-space merge method: how a routed model mixes its members' MLP outputs, what parameters a request
 * gives it, and how it adapts to the adaptation data (searching α, fitting routers, or not at all).
 * {@link FeatureMergeMethods} finds methods by name; adding one is a class implementing this and a line there.
 */
public interface FeatureMergeMethod {

    /**
     * What a routed model is made of, for checking a spec before any model is loaded.
     *
     * @param experts the experts mixed (the base not counted)
     * @param base    whether a base model is given
     * @param nLayer  the models' layer count
     */
    record Members(int experts, boolean base, int nLayer) {}

    /** The name requests use, e.g. {@code layer_routing}. */
    String name();

    /** The parameters a request may give, by name, each with what it means. */
    Map<String, String> parameters();

    /**
     * Reads a request's {@code parameters} (names already checked against {@link #parameters()}) into a spec;
     * problems name {@code parameters.<name>}. Returns null when a problem leaves no spec to build.
     */
    RoutingSpec spec(Map<String, Object> parameters, long seed, List<MergeProblem> problems);

    /**
     * Everything wrong with {@code spec} for these members: parameters that do not apply to this method and
     * limits that depend on the models (two experts, span within n_layer, top_k within the experts a router
     * scores). Fields name {@code parameters.<name>}, or {@code experts} for the expert count. Empty when fine;
     * a routed model is only made of a spec without problems.
     */
    List<MergeProblem> problems(RoutingSpec spec, Members members);

    /**
     * What this method does with the adaptation data for {@code spec}, as a phrase ("fits its routers"), or
     * null when it needs none.
     */
    String adaptation(RoutingSpec spec);

    /**
     * The mixture of a routed model of {@code spec} over {@code members} (the experts, then the base when
     * included), its routers freshly drawn from {@code random} into {@code manager}.
     */
    Mixture mixture(RoutingSpec spec, List<Gpt2Model> members, Gpt2Config config, SplittableRandom random,
            NDManager manager);

    /**
     * Adapts a freshly made routed model to the data and returns the model to keep: {@code routed} itself (its
     * routers fitted in place, or nothing to adapt), or a new model, in which case {@code routed} has been
     * closed. What it did and chose goes into {@code summary} for the job's result. {@code data}'s splits are
     * null when {@link #adaptation} is null and no adaptation data was given.
     */
    RoutedModel adapt(RoutedModel routed, Adaptation data, Map<String, Object> summary) throws InterruptedException;
}
