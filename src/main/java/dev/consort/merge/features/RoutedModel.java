package dev.consort.merge.features;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Collectors;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.consort.engine.Evaluator;
import dev.consort.engine.Gpt2Config;
import dev.consort.engine.Gpt2Model;
import dev.consort.engine.TokenSequence;
import dev.consort.merge.weights.MergeProblem;
import dev.consort.safetensors.DType;
import dev.consort.safetensors.SafetensorsReader;
import dev.consort.safetensors.SafetensorsWriter;
import dev.consort.safetensors.TensorInfo;

/**
 * A feature-space merge (an MoE-style model): the forward pass of ONE shared model (the base, or the first
 * expert when there is no base) for everything but the MLPs, and at each block an MLP output that mixes the
 * MLP outputs of its members (the experts in order, then the base when {@link RoutingSpec#includeBase()}),
 * as the {@link RoutingSpec} says. It is a {@link Gpt2Model.MlpOverride} on the shared model's forward
 * calling each member's {@link Gpt2Model#mlp(int, NDArray)}.
 *
 * <p>The routed model owns only its routers (in a sub-manager of the shared model's manager, freed by
 * {@link #close()}); the member models belong to the caller, who keeps them open while it is used and
 * closes them afterwards. Routers are initialised from {@link RoutingSpec#seed()} by a Java generator, in
 * order: the single router, or the routers of layers 0, 1, … .
 *
 * <p>Saved form ({@link #save}): {@value #DESCRIPTION_FILE} ({@link RoutedModelDescription}: the method,
 * its parameters and the ids of its models) and, for router methods, {@value #ROUTER_FILE}, the routers as
 * F32 safetensors named {@code router.single.*} or {@code router.layer.<i>.*} (see {@link LinearRouter},
 * {@link MlpRouter}).
 */
public final class RoutedModel implements AutoCloseable {

    public static final String DESCRIPTION_FILE = "routed_model.json";
    public static final String ROUTER_FILE = "router.safetensors";

    private final RoutingSpec spec;
    private final Gpt2Model base;
    private final List<Gpt2Model> experts;
    private final Gpt2Model shared;
    private final List<Gpt2Model> members;
    private final NDManager manager;
    private final Mixture mixture;
    private final Map<String, NDArray> routerParameters = new LinkedHashMap<>();

    private RoutedModel(RoutingSpec spec, Gpt2Model base, List<Gpt2Model> experts) {
        this.spec = spec;
        this.base = base;
        this.experts = List.copyOf(experts);
        this.shared = base != null ? base : experts.get(0);
        List<Gpt2Model> all = new ArrayList<>(experts);
        if (spec.includeBase()) {
            all.add(base);
        }
        this.members = List.copyOf(all);
        this.manager = shared.manager().newSubManager();
        try {
            // Routers are drawn in a fixed order from a Java generator, so they are the same on every device.
            this.mixture = spec.method().mixture(spec, members, shared.config(), new SplittableRandom(spec.seed()),
                    manager);
        } catch (RuntimeException e) {
            manager.close();
            throw e;
        }
        for (Router router : mixture.routers()) {
            routerParameters.putAll(router.parameters());
        }
    }

    /**
     * A routed model with freshly initialised routers.
     *
     * @param base    the base model: the shared non-MLP weights and, with include_base, one more expert; null
     *                to share the first expert's (then include_base is refused)
     * @param experts the experts' models, in order (two for activation interpolation)
     * @throws IllegalArgumentException when the models do not fit together (width, depth, device) or the spec
     *                                  does not fit them ({@link FeatureMergeMethod#problems}: span above n_layer,
     *                                  top_k above the experts a router scores, ...)
     */
    public static RoutedModel create(RoutingSpec spec, Gpt2Model base, List<Gpt2Model> experts) {
        if (experts.isEmpty()) {
            throw new IllegalArgumentException("a routed model needs at least one expert");
        }
        Gpt2Model shared = base != null ? base : experts.get(0);
        List<Gpt2Model> all = new ArrayList<>(experts);
        if (base != null) {
            all.add(base);
        }
        for (Gpt2Model model : all) {
            Gpt2Config config = model.config();
            if (config.nLayer() != shared.config().nLayer() || config.nEmbd() != shared.config().nEmbd()) {
                throw new IllegalArgumentException("every model of a routed model needs n_layer "
                        + shared.config().nLayer() + " and n_embd " + shared.config().nEmbd() + ", one has "
                        + config.nLayer() + " and " + config.nEmbd());
            }
            if (!model.device().equals(shared.device())) {
                throw new IllegalArgumentException("every model of a routed model must be on " + shared.device()
                        + ", one is on " + model.device());
            }
        }
        List<MergeProblem> problems = spec.method().problems(spec,
                new FeatureMergeMethod.Members(experts.size(), base != null, shared.config().nLayer()));
        if (!problems.isEmpty()) {
            throw new IllegalArgumentException(problems.stream().map(MergeProblem::message)
                    .collect(Collectors.joining("; ")));
        }
        return new RoutedModel(spec, base, experts);
    }

    /**
     * Loads a routed model saved by {@link #save}: reads {@value #DESCRIPTION_FILE} and
     * {@value #ROUTER_FILE} from {@code dir}. Resolve the models first from
     * {@link RoutedModelDescription#read(Path)} ({@code baseId}, {@code expertIds}).
     */
    public static RoutedModel load(Path dir, Gpt2Model base, List<Gpt2Model> experts) throws IOException {
        RoutedModelDescription description = RoutedModelDescription.read(dir.resolve(DESCRIPTION_FILE));
        Path routers = dir.resolve(ROUTER_FILE);
        return load(description, Files.exists(routers) ? routers : null, base, experts);
    }

    /**
     * A routed model from its description and router file (e.g. two blobs).
     *
     * @param routerFile the routers ({@link #writeRouters}); null for a method without routers
     * @param base       the model of {@code description.baseId()}; null when that is null
     * @param experts    the models of {@code description.expertIds()}, in that order
     * @throws IllegalArgumentException when the models or the router file do not match the description
     */
    public static RoutedModel load(RoutedModelDescription description, Path routerFile, Gpt2Model base,
            List<Gpt2Model> experts) throws IOException {
        if ((description.baseId() == null) != (base == null)) {
            throw new IllegalArgumentException(description.baseId() == null
                    ? "the routed model has no base, but one was given" : "the routed model needs its base model");
        }
        if (experts.size() != description.expertIds().size()) {
            throw new IllegalArgumentException("the routed model has " + description.expertIds().size()
                    + " experts, " + experts.size() + " were given");
        }
        Gpt2Config config = (base != null ? base : experts.get(0)).config();
        if (config.nLayer() != description.nLayer() || config.nEmbd() != description.nEmbd()) {
            throw new IllegalArgumentException("the routed model has n_layer " + description.nLayer() + " and n_embd "
                    + description.nEmbd() + ", the given models " + config.nLayer() + " and " + config.nEmbd());
        }
        RoutedModel routed = create(description.spec(), base, experts);
        try {
            if (routerFile != null) {
                routed.readRouters(routerFile);
            } else if (!routed.routerParameters.isEmpty()) {
                throw new IllegalArgumentException(description.spec().method().name() + " needs a router file");
            }
            return routed;
        } catch (IOException | RuntimeException e) {
            routed.close();
            throw e;
        }
    }

    /** Overwrites the routers with a router file's; its tensors must be exactly this model's, by name and shape. */
    private void readRouters(Path file) throws IOException {
        try (SafetensorsReader reader = SafetensorsReader.open(file)) {
            Map<String, TensorInfo> stored = reader.tensors();
            if (!stored.keySet().equals(routerParameters.keySet())) {
                throw new IllegalArgumentException("the router file holds " + stored.keySet() + " but "
                        + spec.method().name() + " needs " + routerParameters.keySet());
            }
            for (Map.Entry<String, NDArray> parameter : routerParameters.entrySet()) {
                NDArray live = parameter.getValue();
                long[] shape = stored.get(parameter.getKey()).shape();
                if (!live.getShape().equals(new Shape(shape))) {
                    throw new IllegalArgumentException(parameter.getKey() + " is stored as "
                            + TensorInfo.formatShape(shape) + " but the routed model needs " + live.getShape());
                }
                live.set(reader.floats(parameter.getKey()));
            }
        }
    }

    /** Writes {@value #DESCRIPTION_FILE} and, for router methods, {@value #ROUTER_FILE} into {@code dir}. */
    public void save(Path dir, String baseId, List<String> expertIds) throws IOException {
        RoutedModelDescription description = describe(baseId, expertIds);
        Files.createDirectories(dir);
        if (!routerParameters.isEmpty()) {
            writeRouters(dir.resolve(ROUTER_FILE));
        }
        Files.write(dir.resolve(DESCRIPTION_FILE), description.toJson());
    }

    /**
     * This model's description under the ids the caller gives its models.
     *
     * @param baseId    the base model's id; null exactly when the model was made without a base
     * @param expertIds the experts' ids, in order
     */
    public RoutedModelDescription describe(String baseId, List<String> expertIds) {
        if ((baseId == null) != (base == null) || expertIds.size() != experts.size()) {
            throw new IllegalArgumentException("give an id for each expert (" + experts.size() + ") and "
                    + (base == null ? "no base id" : "the base's id"));
        }
        return new RoutedModelDescription(spec, baseId, expertIds, shared.config().nLayer(), shared.config().nEmbd());
    }

    /** Writes the routers as F32 safetensors (nothing to write for activation interpolation). */
    public void writeRouters(Path file) throws IOException {
        List<SafetensorsWriter.Tensor> tensors = new ArrayList<>();
        routerParameters.forEach((name, array) -> tensors.add(new SafetensorsWriter.Tensor(name,
                array.getShape().getShape(), () -> hostFloats(array))));
        SafetensorsWriter.write(file, tensors, DType.F32, Map.of("consort_routers", spec.method().name()));
    }

    private static float[] hostFloats(NDArray array) {
        if (!array.getDevice().isGpu()) {
            return array.toFloatArray();
        }
        try (NDArray onCpu = array.toDevice(Device.cpu(), true)) {
            return onCpu.toFloatArray();
        }
    }

    /** An override for forward passes of {@link #shared()}, one pass after another in one thread. */
    public Gpt2Model.MlpOverride newPass() {
        return mixture.newPass(Mixture.WeightObserver.NONE);
    }

    /**
     * How much each layer leans on each of its experts: the mean mixing weight over every token of the
     * deterministic windows of {@code tokens}, {@code [layer][expert]} in the order of {@link #expertsAt}. Each
     * row sums to 1. For a fixed mixture (activation interpolation) it is the mixture itself.
     */
    public double[][] routingWeights(TokenSequence tokens, int context, int maxWindows, int batchSize) {
        int layers = shared.config().nLayer();
        double[][] sums = new double[layers][];
        long[] counts = new long[layers];
        Mixture.WeightObserver observer = (layer, weights) -> {
            long experts = weights.getShape().get(weights.getShape().dimension() - 1);
            // Sums in float64 over the tokens of this batch; a per-model vector counts once per pass.
            float[] sum = weights.getShape().dimension() == 1 ? weights.toFloatArray()
                    : weights.reshape(-1, experts).sum(new int[] {0}).toFloatArray();
            long rows = weights.getShape().dimension() == 1 ? 1 : weights.size() / experts;
            if (sums[layer] == null) {
                sums[layer] = new double[(int) experts];
            }
            for (int e = 0; e < experts; e++) {
                sums[layer][e] += sum[e];
            }
            counts[layer] += rows;
        };
        Evaluator.evaluate(shared, mixture.newPass(observer), tokens, context, maxWindows, batchSize);
        double[][] means = new double[layers][];
        for (int layer = 0; layer < layers; layer++) {
            means[layer] = new double[sums[layer].length];
            for (int e = 0; e < means[layer].length; e++) {
                means[layer][e] = sums[layer][e] / counts[layer];
            }
        }
        return means;
    }

    /** The hidden states after ln_f, {@code [B, T, C]}, belonging to {@code tokens}' manager (as Gpt2Model.forward). */
    public NDArray forward(NDArray tokens) {
        return shared.forward(tokens, null, newPass());
    }

    /** The loss on the deterministic windows of {@link Evaluator}, mean cross-entropy per position. */
    public Evaluator.Result evaluate(TokenSequence tokens, int context, int maxWindows, int batchSize) {
        return Evaluator.evaluate(shared, newPass(), tokens, context, maxWindows, batchSize);
    }

    public RoutingSpec spec() {
        return spec;
    }

    /** The model whose non-MLP weights (embeddings, attention, layer norms, ln_f) the forward pass uses. */
    public Gpt2Model shared() {
        return shared;
    }

    /** The base model, or null. */
    public Gpt2Model base() {
        return base;
    }

    public List<Gpt2Model> experts() {
        return experts;
    }

    /** The models whose MLPs are mixed: the experts in order, then the base when included. */
    public List<Gpt2Model> members() {
        return members;
    }

    /** The MLPs mixed at {@code layer}, in the order of the routers' outputs. */
    public List<ExpertMlp> expertsAt(int layer) {
        return mixture.expertsAt(layer);
    }

    /** The routers (one, one per layer, or none), in order. */
    public List<Router> routers() {
        return mixture.routers();
    }

    /** Every router parameter by its name in the router file (live arrays; empty for activation interpolation). */
    public Map<String, NDArray> routerParameters() {
        return Collections.unmodifiableMap(routerParameters);
    }

    /** The manager that owns the routers. */
    NDManager manager() {
        return manager;
    }

    /** Frees the routers; the member models stay open. */
    @Override
    public void close() {
        manager.close();
    }
}
