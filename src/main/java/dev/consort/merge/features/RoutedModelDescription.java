package dev.consort.merge.features;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * The JSON description of a saved routed model ({@value RoutedModel#DESCRIPTION_FILE}): what it is and which
 * models it references, by ids the caller chose (e.g. checkpoint ids). For example:
 *
 * <pre>{@code
 * {"format": "consort-routed-model", "version": 1,
 *  "method": "layer_routing", "router": "linear", "include_base": true, "span": 1, "top_k": null,
 *  "alpha": null, "seed": 0,
 *  "base": "0190…", "experts": ["0191…", "0192…"], "shared": "base",
 *  "members": ["0191…", "0192…", "0190…"], "n_layer": 12, "n_embd": 768}
 * }</pre>
 *
 * {@code shared} names whose non-MLP weights the forward pass uses ({@code base} or {@code first_expert});
 * {@code members} lists the models whose MLPs are mixed, in the order of the routers' outputs (within each
 * layer of a multi-layer window). Both follow from the other fields and are written for readers only.
 *
 * @param baseId    the base model's id, or null when the model was made without a base
 * @param expertIds the experts' ids, in order
 */
public record RoutedModelDescription(RoutingSpec spec, String baseId, List<String> expertIds, int nLayer, int nEmbd) {

    public static final String FORMAT = "consort-routed-model";
    public static final int VERSION = 1;

    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final Set<String> FIELDS = Set.of("format", "version", "method", "router", "include_base", "span",
            "top_k", "alpha", "seed", "base", "experts", "shared", "members", "n_layer", "n_embd");

    public RoutedModelDescription {
        expertIds = List.copyOf(expertIds);
        if (expertIds.isEmpty()) {
            throw new IllegalArgumentException("a routed model has at least one expert");
        }
        if (spec.includeBase() && baseId == null) {
            throw new IllegalArgumentException("include_base needs a base id");
        }
    }

    /** The ids of the models whose MLPs are mixed: the experts, then the base when included. */
    public List<String> memberIds() {
        List<String> members = new ArrayList<>(expertIds);
        if (spec.includeBase()) {
            members.add(baseId);
        }
        return members;
    }

    public byte[] toJson() {
        ObjectNode root = JSON.createObjectNode();
        root.put("format", FORMAT);
        root.put("version", VERSION);
        root.put("method", spec.method().name());
        if (spec.router() == null) {
            root.putNull("router");
        } else {
            root.put("router", spec.router().wireName());
        }
        root.put("include_base", spec.includeBase());
        root.put("span", spec.span());
        if (spec.topK() == null) {
            root.putNull("top_k");
        } else {
            root.put("top_k", spec.topK());
        }
        if (spec.alpha() == null) {
            root.putNull("alpha");
        } else {
            root.put("alpha", spec.alpha());
        }
        root.put("seed", spec.seed());
        if (baseId == null) {
            root.putNull("base");
        } else {
            root.put("base", baseId);
        }
        ArrayNode experts = root.putArray("experts");
        expertIds.forEach(experts::add);
        root.put("shared", baseId == null ? "first_expert" : "base");
        ArrayNode members = root.putArray("members");
        memberIds().forEach(members::add);
        root.put("n_layer", nLayer);
        root.put("n_embd", nEmbd);
        return JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(root);
    }

    public static RoutedModelDescription read(Path file) throws IOException {
        return parse(Files.readAllBytes(file));
    }

    /**
     * Reads a description written by {@link #toJson()}.
     *
     * @throws IllegalArgumentException naming the field that is missing, unknown or wrong
     */
    public static RoutedModelDescription parse(byte[] json) {
        JsonNode root;
        try {
            root = JSON.readTree(json);
        } catch (JacksonException e) {
            throw new IllegalArgumentException("the routed-model description is not valid JSON: "
                    + e.getOriginalMessage(), e);
        }
        if (root == null || !root.isObject()) {
            throw new IllegalArgumentException("the routed-model description must be a JSON object");
        }
        for (String field : root.propertyNames()) {
            if (!FIELDS.contains(field)) {
                throw new IllegalArgumentException("unknown field \"" + field + "\" in the routed-model description");
            }
        }
        if (!FORMAT.equals(text(root, "format", false)) || integer(root, "version") != VERSION) {
            throw new IllegalArgumentException("not a version " + VERSION + " " + FORMAT + " description");
        }
        String router = text(root, "router", true);
        JsonNode alpha = root.get("alpha");
        JsonNode topK = root.get("top_k");
        RoutingSpec spec = new RoutingSpec(FeatureMergeMethods.named(text(root, "method", false)),
                router == null ? null : RouterKind.fromWireName(router),
                bool(root, "include_base"),
                integer(root, "span"),
                topK == null || topK.isNull() ? null : integer(root, "top_k"),
                alpha == null || alpha.isNull() ? null : number(root, "alpha").doubleValue(),
                List.of(),
                number(root, "seed").longValue());
        List<String> experts = new ArrayList<>();
        JsonNode expertNodes = field(root, "experts");
        if (!expertNodes.isArray()) {
            throw new IllegalArgumentException("\"experts\" must be an array of ids");
        }
        for (JsonNode id : expertNodes) {
            if (!id.isString()) {
                throw new IllegalArgumentException("\"experts\" must be an array of ids");
            }
            experts.add(id.stringValue());
        }
        return new RoutedModelDescription(spec, text(root, "base", true), experts, integer(root, "n_layer"),
                integer(root, "n_embd"));
    }

    private static JsonNode field(JsonNode root, String name) {
        JsonNode node = root.get(name);
        if (node == null) {
            throw new IllegalArgumentException("the routed-model description lacks \"" + name + "\"");
        }
        return node;
    }

    private static String text(JsonNode root, String name, boolean nullable) {
        JsonNode node = field(root, name);
        if (nullable && node.isNull()) {
            return null;
        }
        if (!node.isString()) {
            throw new IllegalArgumentException("\"" + name + "\" must be a string");
        }
        return node.stringValue();
    }

    private static boolean bool(JsonNode root, String name) {
        JsonNode node = field(root, name);
        if (!node.isBoolean()) {
            throw new IllegalArgumentException("\"" + name + "\" must be true or false");
        }
        return node.booleanValue();
    }

    private static JsonNode number(JsonNode root, String name) {
        JsonNode node = field(root, name);
        if (!node.isNumber()) {
            throw new IllegalArgumentException("\"" + name + "\" must be a number");
        }
        return node;
    }

    private static int integer(JsonNode root, String name) {
        JsonNode node = field(root, name);
        if (!node.isIntegralNumber() || !node.canConvertToInt()) {
            throw new IllegalArgumentException("\"" + name + "\" must be an integer");
        }
        return node.intValue();
    }
}
