package dev.consort.support;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * Writes safetensors files for tests: well-formed ones from tensors laid out back to back, and
 * hand-made ones from a raw header so every malformation can be produced.
 */
public final class TestSafetensors {

    private static final JsonMapper JSON = JsonMapper.builder().build();

    private record Tensor(String dtype, long[] shape, byte[] data) {}

    private final Map<String, Tensor> tensors = new LinkedHashMap<>();
    private final Map<String, String> metadata = new LinkedHashMap<>();

    public TestSafetensors add(String name, String dtype, long[] shape, byte[] data) {
        tensors.put(name, new Tensor(dtype, shape, data));
        return this;
    }

    public TestSafetensors metadata(String key, String value) {
        metadata.put(key, value);
        return this;
    }

    /** The header JSON this file would have (tensors back to back in insertion order). */
    public ObjectNode header() {
        ObjectNode header = JSON.createObjectNode();
        if (!metadata.isEmpty()) {
            ObjectNode meta = header.putObject("__metadata__");
            metadata.forEach(meta::put);
        }
        long offset = 0;
        for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
            ObjectNode t = header.putObject(e.getKey());
            t.put("dtype", e.getValue().dtype());
            ArrayNode shape = t.putArray("shape");
            for (long d : e.getValue().shape()) {
                shape.add(d);
            }
            t.putArray("data_offsets").add(offset).add(offset + e.getValue().data().length);
            offset += e.getValue().data().length;
        }
        return header;
    }

    /** The data buffer: every tensor's bytes back to back. */
    public byte[] data() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        tensors.values().forEach(t -> out.writeBytes(t.data()));
        return out.toByteArray();
    }

    public byte[] toBytes() {
        return file(JSON.writeValueAsString(header()), data());
    }

    /** A file from a header given as text (padded with spaces to a multiple of 8 bytes, as HF writes it). */
    public static byte[] file(String headerJson, byte[] data) {
        StringBuilder padded = new StringBuilder(headerJson);
        while (padded.toString().getBytes(StandardCharsets.UTF_8).length % 8 != 0) {
            padded.append(' ');
        }
        return file(padded.toString().getBytes(StandardCharsets.UTF_8), data);
    }

    /** A file from raw header bytes, with the length prefix they imply. */
    public static byte[] file(byte[] header, byte[] data) {
        return withLength(header.length, header, data);
    }

    /** A file whose length prefix says {@code claimedLength} whatever follows. */
    public static byte[] withLength(long claimedLength, byte[] header, byte[] data) {
        ByteBuffer out = ByteBuffer.allocate(8 + header.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
        out.putLong(claimedLength).put(header).put(data);
        return out.array();
    }

    public static byte[] f32(float... values) {
        ByteBuffer out = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) {
            out.putFloat(v);
        }
        return out.array();
    }
}
