/**
 * Feature-space merges (DESIGN, "Merge methods"): routed models that run ONE shared model's forward pass
 * (the base's, or the first expert's without a base) and replace each block's MLP by a mixture of the MLP
 * outputs of several models, through {@link dev.consort.engine.Gpt2Model.MlpOverride}.
 *
 * <p>Each method is one class behind {@link dev.consort.merge.features.FeatureMergeMethod}, found by name in
 * {@link dev.consort.merge.features.FeatureMergeMethods}: it reads its parameters into a
 * {@link dev.consort.merge.features.RoutingSpec}, checks the spec against the models, builds its
 * {@link dev.consort.merge.features.Mixture}, and adapts the routed model to the adaptation data.
 * <ul>
 *   <li>{@code activation_interpolation} ({@link dev.consort.merge.features.ActivationInterpolation}):
 *       α·MLP_A + (1−α)·MLP_B at every layer; {@link dev.consort.merge.features.AlphaSearch} evaluates a grid
 *       of α on the adaptation data and keeps the whole curve.</li>
 *   <li>{@code single_router} ({@link dev.consort.merge.features.SingleRouter}): one router on layer 0's
 *       {@code ln_2(h)} (the residual after the first attention, normalised as the layer-0 MLPs see it); its
 *       per-token weights mix the members' MLPs at every layer.</li>
 *   <li>{@code layer_routing} ({@link dev.consort.merge.features.LayerRouting}) and {@code multi_layer_routing}
 *       ({@link dev.consort.merge.features.MultiLayerRouting}): a router per layer i on that layer's
 *       {@code ln_2(h)}, over the MLPs of layers s … s + span − 1 of every member,
 *       s = max(0, min(i, n_layer − span)) (span 1: the layer itself).</li>
 * </ul>
 *
 * Members are the experts in order, then the base with {@code include_base}. Router weights are a softmax
 * over the experts (dense), or with {@code top_k} the k largest kept and renormalised. Routers are
 * {@code linear} (no bias) or {@code mlp} (Linear-GELU-Linear, hidden width n_embd); the methods with routers
 * share {@link dev.consort.merge.features.RouterMethod}, whose adaptation is
 * {@link dev.consort.merge.features.RouterFitting}: only the routers train (AdamW, cosine, clipping, best
 * validation step kept), through the engine's step loop.
 *
 * <pre>{@code
 * try (RoutedModel routed = RoutedModel.create(RoutingSpec.layerRouting(RouterKind.LINEAR).withIncludeBase(true),
 *         base, List.of(expertA, expertB))) {
 *     RouterFitting.fit(routed, RouterFitting.plan(500).build(), adaptationTrain, adaptationValidation, listener);
 *     double loss = routed.evaluate(evalTokens, 256, 128, 8).loss();
 *     routed.save(dir, baseId, List.of(expertAId, expertBId));
 * }
 * }</pre>
 */
package dev.consort.merge.features;
