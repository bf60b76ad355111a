package dev.consort.safetensors;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * Writes float tensors as a safetensors file that {@code transformers} loads: F32 (or F16 or BF16 on request),
 * {@code __metadata__} with {@code "format": "pt"} first, the header padded with spaces to a multiple of
 * 8 bytes (so every F32 tensor starts 4-byte aligned), then the tensors back to back in the order given,
 * their offsets tiling the data buffer. Tensors are streamed one at a time: each {@link Tensor} hands
 * over its values only when its turn comes, so a model is never held twice in memory.
 */
public final class SafetensorsWriter {

    /** The values of one tensor, produced when the writer reaches it. */
    @FunctionalInterface
    public interface FloatSource {
        float[] values() throws IOException;
    }

    /** One tensor to write: its name, its shape and where its row-major values come from. */
    public record Tensor(String name, long[] shape, FloatSource source) {
        public Tensor {
            shape = shape.clone();
        }

        long elementCount() {
            long count = 1;
            for (long dim : shape) {
                count = Math.multiplyExact(count, dim);
            }
            return count;
        }
    }

    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final int BUFFER_BYTES = 1 << 20;

    private SafetensorsWriter() {}

    /** Writes {@code tensors} in {@code dtype} with {@code __metadata__ {"format": "pt"}}. */
    public static void write(Path file, List<Tensor> tensors, DType dtype) throws IOException {
        write(file, tensors, dtype, Map.of());
    }

    /**
     * Writes {@code tensors} in {@code dtype} (F32, F16 or BF16), replacing {@code file}. {@code metadata} is
     * added to {@code __metadata__} after {@code "format": "pt"}.
     */
    public static void write(Path file, List<Tensor> tensors, DType dtype, Map<String, String> metadata)
            throws IOException {
        if (dtype != DType.F32 && dtype != DType.F16 && dtype != DType.BF16) {
            throw new IllegalArgumentException("tensors are written as F32, F16 or BF16, not " + dtype);
        }
        byte[] header = header(tensors, dtype, metadata);
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            ByteBuffer buffer = ByteBuffer.allocate(BUFFER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
            buffer.putLong(header.length);
            writeFully(channel, buffer.flip());
            writeFully(channel, ByteBuffer.wrap(header));
            for (Tensor tensor : tensors) {
                float[] values = tensor.source().values();
                if (values.length != tensor.elementCount()) {
                    throw new IllegalStateException(tensor.name() + " has " + values.length
                            + " values but its shape " + TensorInfo.formatShape(tensor.shape()) + " needs "
                            + tensor.elementCount());
                }
                buffer.clear();
                for (float value : values) {
                    if (buffer.remaining() < Float.BYTES) {
                        writeFully(channel, buffer.flip());
                        buffer.clear();
                    }
                    if (dtype == DType.F32) {
                        buffer.putFloat(value);
                    } else if (dtype == DType.F16) {
                        buffer.putShort(HalfPrecision.floatToF16(value));
                    } else {
                        buffer.putShort(HalfPrecision.floatToBf16(value));
                    }
                }
                writeFully(channel, buffer.flip());
            }
        }
    }

    private static byte[] header(List<Tensor> tensors, DType dtype, Map<String, String> metadata) {
        ObjectNode root = JSON.createObjectNode();
        Map<String, String> allMetadata = new LinkedHashMap<>();
        allMetadata.put("format", "pt");
        allMetadata.putAll(metadata);
        ObjectNode meta = root.putObject("__metadata__");
        allMetadata.forEach(meta::put);
        Set<String> names = new HashSet<>();
        long offset = 0;
        for (Tensor tensor : tensors) {
            if (tensor.name().equals("__metadata__") || !names.add(tensor.name())) {
                throw new IllegalArgumentException("tensor name " + tensor.name() + " is reserved or repeated");
            }
            long bytes = Math.multiplyExact(tensor.elementCount(), dtype.size());
            ObjectNode entry = root.putObject(tensor.name());
            entry.put("dtype", dtype.name());
            ArrayNode shape = entry.putArray("shape");
            for (long dim : tensor.shape()) {
                shape.add(dim);
            }
            entry.putArray("data_offsets").add(offset).add(offset + bytes);
            offset += bytes;
        }
        StringBuilder json = new StringBuilder(JSON.writeValueAsString(root));
        int length = json.toString().getBytes(StandardCharsets.UTF_8).length;
        json.append(" ".repeat((8 - length % 8) % 8));
        return json.toString().getBytes(StandardCharsets.UTF_8);
    }

    private static void writeFully(FileChannel channel, ByteBuffer bytes) throws IOException {
        while (bytes.hasRemaining()) {
            channel.write(bytes);
        }
    }
}
