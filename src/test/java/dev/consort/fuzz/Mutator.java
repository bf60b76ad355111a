package dev.consort.fuzz;

import java.io.ByteArrayOutputStream;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import tools.jackson.core.StreamWriteConstraints;
import tools.jackson.core.json.JsonFactory;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;

/**
 * Seeded mutations of upload files. Each call draws from the given random source only, so an iteration's
 * input depends on nothing but the seed and its index; {@link #log} records what was done, to reproduce a
 * failure by hand.
 */
final class Mutator {

    /** Writes what the mutations build, however deep: beyond what a reader accepts is the point. */
    static final JsonMapper JSON = JsonMapper.builder(JsonFactory.builder()
            .streamWriteConstraints(StreamWriteConstraints.builder().maxNestingDepth(100_000).build())
            .build()).build();
    static String write(JsonNode node) {
        return JSON.writeValueAsString(node);
    }

    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    /** Bytes that often break parsers: quotes, brackets, separators, NUL, invalid and multi-byte UTF-8. */
    private static final byte[] INTERESTING = {'"', '{', '}', '[', ']', ',', ':', '\\', '\n', '\r', ' ', '0', '-',
            '9', 'e', '.', 0, (byte) 0xFF, (byte) 0x80, (byte) 0xC3, (byte) 0xE2, (byte) 0xF0, (byte) 0xED, 0x7F};
    /** Byte sequences that are not UTF-8: a lone continuation, overlong, a surrogate, out of range, cut short. */
    private static final byte[][] INVALID_UTF8 = {{(byte) 0x80}, {(byte) 0xC0, (byte) 0xAF},
            {(byte) 0xED, (byte) 0xA0, (byte) 0x80}, {(byte) 0xF4, (byte) 0x90, (byte) 0x80, (byte) 0x80},
            {(byte) 0xE2, (byte) 0x82}, {(byte) 0xFF}, {(byte) 0xFE}, {(byte) 0xF8, (byte) 0x88, (byte) 0x80,
            (byte) 0x80, (byte) 0x80}};
    private static final String[] DTYPES = {"F32", "F16", "BF16", "F64", "I32", "U8", "BOOL", "F8_E4M3", "I64",
            "f32", "F12", "", "FLOAT"};

    final SplittableRandom random;
    final List<String> log = new ArrayList<>();

    Mutator(SplittableRandom random) {
        this.random = random;
    }

    int below(int n) {
        return random.nextInt(n);
    }

    boolean chance(int percent) {
        return random.nextInt(100) < percent;
    }

    // ---------------------------------------------------------------- bytes

    /** One to three byte-level mutations: bit flips, inserts, deletes, overwrites, duplications, truncation. */
    byte[] bytes(byte[] input) {
        byte[] out = input;
        int rounds = 1 + below(3);
        for (int r = 0; r < rounds; r++) {
            out = switch (below(7)) {
                case 0 -> bitFlips(out);
                case 1 -> insert(out);
                case 2 -> deleteRange(out);
                case 3 -> overwrite(out);
                case 4 -> duplicateRange(out);
                case 5 -> truncate(out);
                default -> insertInvalidUtf8(out);
            };
        }
        return out;
    }

    byte[] bitFlips(byte[] input) {
        if (input.length == 0) {
            return input;
        }
        byte[] out = input.clone();
        int flips = 1 + below(8);
        for (int i = 0; i < flips; i++) {
            int at = below(out.length);
            out[at] ^= (byte) (1 << below(8));
        }
        log.add("bitFlips(" + flips + ")");
        return out;
    }

    byte[] insert(byte[] input) {
        int at = below(input.length + 1);
        byte[] inserted = new byte[1 + below(chance(10) ? 64 : 4)];
        for (int i = 0; i < inserted.length; i++) {
            inserted[i] = chance(50) ? INTERESTING[below(INTERESTING.length)] : (byte) random.nextInt(256);
        }
        log.add("insert(" + at + ", " + inserted.length + ")");
        return splice(input, at, at, inserted);
    }

    byte[] deleteRange(byte[] input) {
        if (input.length == 0) {
            return input;
        }
        int at = below(input.length);
        int length = 1 + below(Math.min(input.length - at, chance(10) ? 256 : 8));
        log.add("delete(" + at + ", " + length + ")");
        return splice(input, at, at + length, new byte[0]);
    }

    byte[] overwrite(byte[] input) {
        if (input.length == 0) {
            return input;
        }
        byte[] out = input.clone();
        int at = below(out.length);
        int length = 1 + below(Math.min(out.length - at, 16));
        for (int i = 0; i < length; i++) {
            out[at + i] = chance(50) ? INTERESTING[below(INTERESTING.length)] : (byte) random.nextInt(256);
        }
        log.add("overwrite(" + at + ", " + length + ")");
        return out;
    }

    byte[] duplicateRange(byte[] input) {
        if (input.length == 0) {
            return input;
        }
        int at = below(input.length);
        int length = 1 + below(Math.min(input.length - at, 128));
        int to = below(input.length + 1);
        log.add("duplicate(" + at + ", " + length + " -> " + to + ")");
        return splice(input, to, to, Arrays.copyOfRange(input, at, at + length));
    }

    byte[] truncate(byte[] input) {
        int length = chance(20) ? below(Math.min(input.length + 1, 16)) : below(input.length + 1);
        log.add("truncate(" + length + ")");
        return Arrays.copyOf(input, length);
    }

    byte[] insertInvalidUtf8(byte[] input) {
        int at = below(input.length + 1);
        byte[] bad = INVALID_UTF8[below(INVALID_UTF8.length)];
        log.add("invalidUtf8(" + at + ", " + bad.length + " bytes)");
        return splice(input, at, at, bad);
    }

    static byte[] splice(byte[] input, int from, int to, byte[] replacement) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(input.length + replacement.length);
        out.write(input, 0, from);
        out.writeBytes(replacement);
        out.write(input, to, input.length - to);
        return out.toByteArray();
    }

    // ---------------------------------------------------------------- JSON trees

    /** Numbers that break naive readers: huge, negative, fractional, beyond a long, a thousand digits and more. */
    JsonNode hostileNumber() {
        return switch (below(10)) {
            case 0 -> NODES.numberNode(-1);
            case 1 -> NODES.numberNode(Long.MAX_VALUE);
            case 2 -> NODES.numberNode(new BigInteger("18446744073709551617"));
            case 3 -> NODES.numberNode(1e308);
            case 4 -> NODES.numberNode(-0.5);
            case 5 -> NODES.numberNode(new BigInteger("9".repeat(chance(50) ? 99 : 1_500)));
            case 6 -> NODES.numberNode(Integer.MAX_VALUE + 1L);
            case 7 -> NODES.numberNode(0);
            case 8 -> NODES.numberNode(4.0);
            default -> NODES.numberNode(random.nextLong());
        };
    }

    /** A value of another JSON type than usual, or a deeply nested one. */
    JsonNode hostileValue() {
        return switch (below(9)) {
            case 0 -> hostileNumber();
            case 1 -> NODES.stringNode(chance(50) ? "8" : "../../etc/passwd");
            case 2 -> NODES.nullNode();
            case 3 -> NODES.booleanNode(random.nextBoolean());
            case 4 -> NODES.arrayNode();
            case 5 -> NODES.objectNode();
            case 6 -> nested(chance(50) ? 10 + below(50) : 60 + below(700));
            case 7 -> NODES.stringNode("x".repeat(below(100_000)));
            default -> NODES.arrayNode().add(hostileNumber()).add(hostileNumber());
        };
    }

    static JsonNode nested(int depth) {
        JsonNode node = NODES.numberNode(1);
        for (int i = 0; i < depth; i++) {
            node = i % 2 == 0 ? NODES.arrayNode().add(node) : NODES.objectNode().set("k", node);
        }
        return node;
    }

    /** Every value node of a tree, with its parent, for picking one to mutate. */
    private record Slot(JsonNode parent, String field, int index) {}

    private static void slots(JsonNode node, List<Slot> into) {
        if (node instanceof ObjectNode object) {
            for (String name : object.propertyNames()) {
                into.add(new Slot(object, name, -1));
                slots(object.get(name), into);
            }
        } else if (node instanceof ArrayNode array) {
            for (int i = 0; i < array.size(); i++) {
                into.add(new Slot(array, null, i));
                slots(array.get(i), into);
            }
        }
    }

    /** One to three structural mutations of a JSON object: type changes, removals, renames, duplicated keys. */
    String jsonObject(ObjectNode root, List<String> renames) {
        ObjectNode tree = root.deepCopy();
        int rounds = 1 + below(3);
        boolean duplicateKey = false;
        for (int r = 0; r < rounds; r++) {
            List<Slot> slots = new ArrayList<>();
            slots(tree, slots);
            if (slots.isEmpty()) {
                tree.set("added", hostileValue());
                log.add("add field");
                continue;
            }
            Slot slot = slots.get(below(slots.size()));
            switch (below(6)) {
                case 0, 1 -> {
                    set(slot, hostileValue());
                    log.add("replace " + describe(slot));
                }
                case 2 -> {
                    set(slot, hostileNumber());
                    log.add("number at " + describe(slot));
                }
                case 3 -> {
                    if (slot.parent() instanceof ObjectNode object) {
                        object.remove(slot.field());
                    } else {
                        ((ArrayNode) slot.parent()).remove(slot.index());
                    }
                    log.add("remove " + describe(slot));
                }
                case 4 -> {
                    if (slot.parent() instanceof ObjectNode object && !renames.isEmpty()) {
                        String to = renames.get(below(renames.size()));
                        JsonNode value = object.remove(slot.field());
                        object.set(to, value);
                        log.add("rename " + slot.field() + " -> " + to);
                    } else {
                        set(slot, nested(60 + below(600)));
                        log.add("deep at " + describe(slot));
                    }
                }
                default -> {
                    duplicateKey = true;
                    log.add("duplicate a key");
                }
            }
        }
        String text = JSON.writeValueAsString(tree);
        if (duplicateKey && text.startsWith("{\"")) {
            int colon = text.indexOf("\":");
            String firstKey = text.substring(1, colon + 1);
            text = "{" + firstKey + ":1," + text.substring(1);
        }
        return text;
    }

    private static void set(Slot slot, JsonNode value) {
        if (slot.parent() instanceof ObjectNode object) {
            object.set(slot.field(), value);
        } else {
            ((ArrayNode) slot.parent()).set(slot.index(), value);
        }
    }

    private static String describe(Slot slot) {
        return slot.field() != null ? slot.field() : "[" + slot.index() + "]";
    }

    // ---------------------------------------------------------------- safetensors

    /** The 8-byte little-endian header length of a safetensors file set to a hostile value. */
    byte[] headerLength(byte[] file) {
        byte[] out = file.length >= 8 ? file.clone() : Arrays.copyOf(file, 8);
        long actual = ByteBuffer.wrap(out, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        long claim = switch (below(12)) {
            case 0 -> 0;
            case 1 -> 1;
            case 2 -> actual - 1;
            case 3 -> actual + 1;
            case 4 -> out.length - 8;
            case 5 -> out.length;
            case 6 -> 1L << 30;
            case 7 -> 100L * 1024 * 1024 + 1;
            case 8 -> Long.MAX_VALUE;
            case 9 -> -1; // u64 max
            case 10 -> actual + 8 * (below(9) - 4);
            default -> random.nextLong();
        };
        ByteBuffer.wrap(out, 0, 8).order(ByteOrder.LITTLE_ENDIAN).putLong(claim);
        log.add("headerLength(" + Long.toUnsignedString(claim) + ", was " + actual + ")");
        return out;
    }

    /** A structural mutation of the header JSON; the length prefix is fixed up to match, or kept stale. */
    byte[] header(byte[] file, List<String> tensorNames) {
        long length = ByteBuffer.wrap(file, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        ObjectNode header = (ObjectNode) JSON.readTree(new String(file, 8, (int) length, StandardCharsets.UTF_8));
        byte[] data = Arrays.copyOfRange(file, 8 + (int) length, file.length);
        String text = switch (below(4)) {
            case 0 -> tensorEdit(header, tensorNames);
            case 1 -> offsetsEdit(header, tensorNames);
            default -> jsonObject(header, List.of("../../etc/passwd", "transformer.../wte.weight",
                    "h.0/../../ln_f.weight", "..\\..\\x", "transformer.h.99.attn.bias", "lm_head.weight",
                    "transformer.lm_head.weight", "__metadata__", "ln_f.weight"));
        };
        byte[] headerBytes = text.getBytes(StandardCharsets.UTF_8);
        if (chance(50)) {
            int padded = (headerBytes.length + 7) / 8 * 8;
            headerBytes = Arrays.copyOf(headerBytes, padded);
            Arrays.fill(headerBytes, text.getBytes(StandardCharsets.UTF_8).length, padded, (byte) ' ');
        }
        long prefix = chance(90) ? headerBytes.length : length;
        ByteBuffer out = ByteBuffer.allocate(8 + headerBytes.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
        return out.putLong(prefix).put(headerBytes).put(data).array();
    }

    private String tensorEdit(ObjectNode header, List<String> names) {
        String name = names.get(below(names.size()));
        ObjectNode tensor = (ObjectNode) header.get(name);
        switch (below(6)) {
            case 0 -> {
                tensor.put("dtype", DTYPES[below(DTYPES.length)]);
                log.add("dtype of " + name + " = " + tensor.get("dtype"));
            }
            case 1 -> {
                ArrayNode shape = tensor.putArray("shape");
                int dims = below(4);
                for (int i = 0; i < dims; i++) {
                    shape.add(switch (below(5)) {
                        case 0 -> 0;
                        case 1 -> 4294967296L;
                        case 2 -> Long.MAX_VALUE;
                        case 3 -> -1;
                        default -> 1 + below(64);
                    });
                }
                log.add("shape of " + name + " = " + shape);
            }
            case 2 -> {
                header.remove(name);
                header.set(List.of("../" + name, "transformer.../../" + name, name + "/..", "/etc/" + name)
                        .get(below(4)), tensor);
                log.add("path-like rename of " + name);
            }
            case 3 -> {
                tensor.put("extra", 1);
                log.add("extra field in " + name);
            }
            case 4 -> {
                header.putObject("__metadata__").set("format", hostileValue());
                log.add("metadata value");
            }
            default -> {
                tensor.set("shape", hostileValue());
                log.add("shape of " + name + " hostile");
            }
        }
        return JSON.writeValueAsString(header);
    }

    private String offsetsEdit(ObjectNode header, List<String> names) {
        String name = names.get(below(names.size()));
        ArrayNode offsets = (ArrayNode) header.get(name).get("data_offsets");
        long begin = offsets.get(0).asLong();
        long end = offsets.get(1).asLong();
        switch (below(6)) {
            case 0 -> {
                long shift = (below(2) == 0 ? -1 : 1) * (1 + below(16));
                offsets.removeAll().add(begin + shift).add(end + shift);
                log.add("shift offsets of " + name + " by " + shift);
            }
            case 1 -> {
                String other = names.get(below(names.size()));
                ArrayNode theirs = (ArrayNode) header.get(other).get("data_offsets");
                ((ObjectNode) header.get(name)).set("data_offsets", theirs.deepCopy());
                log.add("offsets of " + name + " copied from " + other);
            }
            case 2 -> {
                offsets.removeAll().add(end).add(begin);
                log.add("offsets of " + name + " reversed");
            }
            case 3 -> {
                offsets.removeAll().add(begin).add(Long.MAX_VALUE);
                log.add("offsets of " + name + " end at Long.MAX_VALUE");
            }
            case 4 -> {
                offsets.add(end);
                log.add("three offsets in " + name);
            }
            default -> {
                offsets.set(below(2), hostileNumber());
                log.add("hostile offset in " + name + ": " + offsets);
            }
        }
        return JSON.writeValueAsString(header);
    }

    /** Non-finite or arbitrary values written over one element of the data buffer. */
    byte[] poisonData(byte[] file, Map<String, long[]> offsetsByName, Map<String, String> dtypes) {
        long length = ByteBuffer.wrap(file, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        List<String> names = new ArrayList<>(offsetsByName.keySet());
        String name = names.get(below(names.size()));
        long[] range = offsetsByName.get(name);
        String dtype = dtypes.get(name);
        int size = switch (dtype) {
            case "F64" -> 8;
            case "F32" -> 4;
            default -> 2;
        };
        long elements = (range[1] - range[0]) / size;
        if (elements == 0) {
            return file;
        }
        int at = (int) (8 + length + range[0] + size * (long) below((int) elements));
        byte[] out = file.clone();
        ByteBuffer buffer = ByteBuffer.wrap(out).order(ByteOrder.LITTLE_ENDIAN);
        int kind = below(4);
        switch (dtype) {
            case "F64" -> buffer.putDouble(at, new double[] {Double.NaN, Double.POSITIVE_INFINITY,
                    Double.NEGATIVE_INFINITY, Double.MAX_VALUE}[kind]);
            case "F32" -> buffer.putFloat(at, new float[] {Float.NaN, Float.POSITIVE_INFINITY,
                    Float.NEGATIVE_INFINITY, Float.MIN_VALUE}[kind]);
            case "F16" -> buffer.putShort(at, new short[] {0x7E00, 0x7C00, (short) 0xFC00, 0x7BFF}[kind]);
            default -> buffer.putShort(at, new short[] {0x7FC0, 0x7F80, (short) 0xFF80, 0x7F7F}[kind]);
        }
        log.add("value " + kind + " into " + name + " (" + dtype + ") at byte " + at);
        return out;
    }
}
