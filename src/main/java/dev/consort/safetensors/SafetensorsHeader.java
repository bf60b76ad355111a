package dev.consort.safetensors;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.CharBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import tools.jackson.core.JacksonException;
import tools.jackson.core.StreamReadFeature;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The parsed header of a safetensors file: an unsigned little-endian u64 {@code N}, then {@code N}
 * bytes of UTF-8 JSON, then the data buffer. Parsing is strict, because the bytes come from users and
 * the offsets are later used to map memory: every tensor's byte range must match its shape and dtype,
 * and together the ranges must tile the data buffer exactly, with no gap, overlap or overrun.
 *
 * @param headerLength N, the length of the JSON header in bytes
 * @param metadata     the optional {@code __metadata__} (string to string), empty when absent
 * @param tensors      the tensors in header order
 * @param dataLength   bytes of the data buffer ({@code fileSize - 8 - N})
 */
public record SafetensorsHeader(long headerLength, Map<String, String> metadata, List<TensorInfo> tensors,
        long dataLength) {

    /** Headers beyond this are refused before anything is read (the reference implementation uses 100 MB too). */
    public static final long MAX_HEADER_BYTES = 100L * 1024 * 1024;

    private static final String METADATA = "__metadata__";
    private static final Set<String> TENSOR_FIELDS = Set.of("dtype", "shape", "data_offsets");

    private static final JsonMapper STRICT_JSON = JsonMapper.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .build();

    public SafetensorsHeader {
        metadata = Collections.unmodifiableMap(new LinkedHashMap<>(metadata));
        tensors = List.copyOf(tensors);
    }

    /** Where the data buffer starts in the file: after the 8-byte length and the header. */
    public long dataStart() {
        return 8 + headerLength;
    }

    public static SafetensorsHeader read(Path file) throws IOException {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            return read(channel, channel.size());
        }
    }

    /** Reads and checks the header of the {@code fileSize}-byte safetensors file open on {@code channel}. */
    public static SafetensorsHeader read(FileChannel channel, long fileSize) throws IOException {
        if (fileSize < 8) {
            throw new SafetensorsFormatException("file",
                    "the file is " + fileSize + " bytes, too short to hold the 8-byte header length");
        }
        ByteBuffer lengthBytes = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        readFully(channel, lengthBytes, 0);
        long headerLength = lengthBytes.flip().getLong();
        // A u64 above Long.MAX_VALUE reads as negative: far beyond any cap either way.
        if (headerLength < 0 || headerLength > MAX_HEADER_BYTES) {
            throw new SafetensorsFormatException("header", "header length "
                    + Long.toUnsignedString(headerLength) + " exceeds the cap of " + MAX_HEADER_BYTES + " bytes");
        }
        if (headerLength > fileSize - 8) {
            throw new SafetensorsFormatException("header", "header length " + headerLength
                    + " larger than the file (" + (fileSize - 8) + " bytes follow the length)");
        }
        ByteBuffer headerBytes = ByteBuffer.allocate((int) headerLength);
        readFully(channel, headerBytes, 8);
        headerBytes.flip();
        JsonNode root = parseJson(decodeUtf8(headerBytes));
        return check(root, headerLength, fileSize - 8 - headerLength);
    }

    private static String decodeUtf8(ByteBuffer bytes) throws SafetensorsFormatException {
        CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        try {
            CharBuffer chars = decoder.decode(bytes);
            return chars.toString();
        } catch (CharacterCodingException e) {
            throw new SafetensorsFormatException("header",
                    "the header is not valid UTF-8 (bad byte sequence near byte " + (8 + bytes.position()) + ")");
        }
    }

    private static JsonNode parseJson(String text) throws SafetensorsFormatException {
        JsonNode root;
        try {
            root = STRICT_JSON.readTree(text);
        } catch (JacksonException e) {
            throw new SafetensorsFormatException("header", "the header is not valid JSON: " + e.getOriginalMessage());
        }
        if (root == null || !root.isObject()) {
            throw new SafetensorsFormatException("header", "the header must be a JSON object");
        }
        return root;
    }

    private static SafetensorsHeader check(JsonNode root, long headerLength, long dataLength)
            throws SafetensorsFormatException {
        Map<String, String> metadata = Map.of();
        List<TensorInfo> tensors = new ArrayList<>();
        for (Map.Entry<String, JsonNode> entry : root.properties()) {
            if (entry.getKey().equals(METADATA)) {
                metadata = metadata(entry.getValue());
            } else {
                tensors.add(tensor(entry.getKey(), entry.getValue()));
            }
        }
        checkTiling(tensors, dataLength);
        return new SafetensorsHeader(headerLength, metadata, tensors, dataLength);
    }

    private static Map<String, String> metadata(JsonNode node) throws SafetensorsFormatException {
        if (!node.isObject()) {
            throw new SafetensorsFormatException(METADATA, "must be an object of strings");
        }
        Map<String, String> metadata = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> entry : node.properties()) {
            if (!entry.getValue().isString()) {
                throw new SafetensorsFormatException(METADATA, "value of \"" + entry.getKey() + "\" must be a string");
            }
            metadata.put(entry.getKey(), entry.getValue().stringValue());
        }
        return metadata;
    }

    private static TensorInfo tensor(String name, JsonNode node) throws SafetensorsFormatException {
        if (!node.isObject()) {
            throw new SafetensorsFormatException(name, "must be an object with dtype, shape and data_offsets");
        }
        for (String field : node.propertyNames()) {
            if (!TENSOR_FIELDS.contains(field)) {
                throw new SafetensorsFormatException(name, "unexpected field \"" + field
                        + "\" (a tensor has only dtype, shape and data_offsets)");
            }
        }
        JsonNode dtypeNode = node.get("dtype");
        if (dtypeNode == null || !dtypeNode.isString()) {
            throw new SafetensorsFormatException(name, "dtype is missing or not a string");
        }
        DType dtype = DType.byName(dtypeNode.stringValue()).orElseThrow(() -> new SafetensorsFormatException(name,
                "unknown dtype \"" + dtypeNode.stringValue() + "\""));
        long[] shape = nonNegativeLongs(name, "shape", node.get("shape"), -1);
        long[] offsets = nonNegativeLongs(name, "data_offsets", node.get("data_offsets"), 2);
        long begin = offsets[0];
        long end = offsets[1];
        if (end < begin) {
            throw new SafetensorsFormatException(name,
                    "data_offsets [" + begin + ", " + end + "] end before they begin");
        }
        long bytes;
        try {
            long elements = 1;
            for (long dim : shape) {
                elements = Math.multiplyExact(elements, dim);
            }
            bytes = Math.multiplyExact(elements, dtype.size());
        } catch (ArithmeticException e) {
            throw new SafetensorsFormatException(name, "shape " + TensorInfo.formatShape(shape)
                    + " has more elements than a 64-bit count can hold");
        }
        if (bytes != end - begin) {
            throw new SafetensorsFormatException(name, "data_offsets [" + begin + ", " + end + "] span "
                    + (end - begin) + " bytes but shape " + TensorInfo.formatShape(shape) + " of " + dtype
                    + " needs " + bytes);
        }
        return new TensorInfo(name, dtype, shape, begin, end);
    }

    /** A JSON array of non-negative integers that fit a long, of {@code length} entries unless it is -1. */
    private static long[] nonNegativeLongs(String tensor, String field, JsonNode node, int length)
            throws SafetensorsFormatException {
        if (node == null || !node.isArray()) {
            throw new SafetensorsFormatException(tensor, field + " is missing or not an array");
        }
        if (length >= 0 && node.size() != length) {
            throw new SafetensorsFormatException(tensor,
                    field + " must have " + length + " entries, has " + node.size());
        }
        long[] values = new long[node.size()];
        for (int i = 0; i < values.length; i++) {
            JsonNode value = node.get(i);
            if (!value.isIntegralNumber() || !value.canConvertToLong() || value.longValue() < 0) {
                throw new SafetensorsFormatException(tensor, field + " entry " + value
                        + " is not a non-negative 64-bit integer");
            }
            values[i] = value.longValue();
        }
        return values;
    }

    /** The byte ranges, in offset order, must cover [0, dataLength) exactly once. */
    private static void checkTiling(List<TensorInfo> tensors, long dataLength) throws SafetensorsFormatException {
        List<TensorInfo> byOffset = new ArrayList<>(tensors);
        byOffset.sort(Comparator.comparingLong(TensorInfo::begin).thenComparingLong(TensorInfo::end));
        long covered = 0;
        TensorInfo previous = null;
        for (TensorInfo tensor : byOffset) {
            if (tensor.end() > dataLength) {
                throw new SafetensorsFormatException(tensor.name(), "data_offsets [" + tensor.begin() + ", "
                        + tensor.end() + "] run past the end of the data (" + dataLength + " bytes)");
            }
            if (tensor.begin() < covered) {
                throw new SafetensorsFormatException(tensor.name(), "data_offsets [" + tensor.begin() + ", "
                        + tensor.end() + "] overlap " + previous.name() + " [" + previous.begin() + ", "
                        + previous.end() + "]");
            }
            if (tensor.begin() > covered) {
                throw new SafetensorsFormatException(tensor.name(), "data_offsets [" + tensor.begin() + ", "
                        + tensor.end() + "] leave a gap of " + (tensor.begin() - covered) + " bytes before them");
            }
            covered = tensor.end();
            previous = tensor;
        }
        if (covered != dataLength) {
            throw new SafetensorsFormatException("file", "the data buffer has " + dataLength
                    + " bytes but the tensors cover only " + covered);
        }
    }

    private static void readFully(FileChannel channel, ByteBuffer into, long position) throws IOException {
        long at = position;
        while (into.hasRemaining()) {
            int n = channel.read(into, at);
            if (n < 0) {
                throw new EOFException("file ended at byte " + at);
            }
            at += n;
        }
    }
}
