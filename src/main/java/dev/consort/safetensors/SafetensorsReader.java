package dev.consort.safetensors;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

/**
 * A safetensors file opened for reading: the header is checked strictly by {@link SafetensorsHeader}
 * before anything else is read, then each tensor's bytes are memory-mapped on demand. Hand-written because
 * no Java library validates hostile headers this strictly, maps tensors without copying, and widens BF16.
 *
 * <p>Tensors come as {@code float[]} ({@link #floats}) or as F32 DJL arrays: {@link #array} is always a
 * copy the caller owns and may train in place; {@link #mappedArray} avoids the copy for aligned F32
 * data by viewing the mapped file, so it must never be modified (in-place ops on it crash the JVM).
 * F16, BF16 and F64 tensors are converted to float in Java (a BF16 DJL array would abort the JVM).
 * Only floating-point tensors can be read this way.
 *
 * <p>Closing the reader closes the file; mappings already handed out stay valid until they are
 * garbage collected (Java cannot unmap them explicitly).
 */
public final class SafetensorsReader implements AutoCloseable {

    private final Path file;
    private final FileChannel channel;
    private final SafetensorsHeader header;
    private final Map<String, TensorInfo> tensors = new LinkedHashMap<>();

    private SafetensorsReader(Path file, FileChannel channel, SafetensorsHeader header) {
        this.file = file;
        this.channel = channel;
        this.header = header;
        header.tensors().forEach(t -> tensors.put(t.name(), t));
    }

    /** Opens and validates {@code file}; throws {@link SafetensorsFormatException} if it is malformed. */
    public static SafetensorsReader open(Path file) throws IOException {
        FileChannel channel = FileChannel.open(file, StandardOpenOption.READ);
        try {
            return new SafetensorsReader(file, channel, SafetensorsHeader.read(channel, channel.size()));
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
    }

    public SafetensorsHeader header() {
        return header;
    }

    /** The tensors by name as stored, in header order. */
    public Map<String, TensorInfo> tensors() {
        return Collections.unmodifiableMap(tensors);
    }

    /** The tensor's elements in row-major order, converted to float. */
    public float[] floats(String name) throws IOException {
        TensorInfo tensor = info(name);
        ByteBuffer bytes = map(tensor);
        float[] values = new float[Math.toIntExact(tensor.elementCount())];
        switch (tensor.dtype()) {
            case F32 -> bytes.asFloatBuffer().get(values);
            case F16 -> {
                for (int i = 0; i < values.length; i++) {
                    values[i] = HalfPrecision.f16ToFloat(bytes.getShort(2 * i));
                }
            }
            case BF16 -> {
                for (int i = 0; i < values.length; i++) {
                    values[i] = HalfPrecision.bf16ToFloat(bytes.getShort(2 * i));
                }
            }
            case F64 -> {
                for (int i = 0; i < values.length; i++) {
                    values[i] = (float) bytes.getDouble(8 * i);
                }
            }
            default -> throw notFloat(tensor);
        }
        return values;
    }

    /** The tensor as an F32 array of {@code manager}, in memory of its own: safe to modify and train. */
    public NDArray array(String name, NDManager manager) throws IOException {
        TensorInfo tensor = info(name);
        Shape shape = new Shape(tensor.shape());
        // create() over a direct buffer aliases it; duplicate() copies into memory PyTorch owns, so the
        // parameters of a large model do not count against the JVM's direct-memory limit.
        ByteBuffer data = tensor.dtype() == DType.F32 && ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN
                ? map(tensor) : floatBytes(floats(name));
        try (NDArray view = manager.create(data, shape, DataType.FLOAT32)) {
            return view.duplicate();
        }
    }

    /**
     * The tensor as an F32 array of {@code manager}, read-only: F32 data aligned to 4 bytes on a
     * little-endian CPU device is a zero-copy view of the mapped file; anything else is a converted copy.
     * Never modify the result in place, and never train it: use {@link #array} for that. Keep it open
     * until any backward pass that went through it has run (autograd may read it then).
     */
    public NDArray mappedArray(String name, NDManager manager) throws IOException {
        TensorInfo tensor = info(name);
        boolean zeroCopy = tensor.dtype() == DType.F32
                && (header.dataStart() + tensor.begin()) % Float.BYTES == 0
                && ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN
                && !manager.getDevice().isGpu();
        if (!zeroCopy) {
            return manager.create(floats(name), new Shape(tensor.shape()));
        }
        // The array keeps a reference to the mapping, so the mapping lives as long as the array.
        return manager.create(map(tensor), new Shape(tensor.shape()), DataType.FLOAT32);
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }

    private TensorInfo info(String name) throws IOException {
        TensorInfo tensor = tensors.get(name);
        if (tensor == null) {
            throw new IllegalArgumentException("no tensor " + name + " in " + file);
        }
        return tensor;
    }

    /** The tensor's bytes, little-endian; empty tensors need no mapping. */
    private ByteBuffer map(TensorInfo tensor) throws IOException {
        if (tensor.byteLength() > Integer.MAX_VALUE) {
            throw new IOException(tensor.name() + ": tensors over 2 GiB are not supported");
        }
        if (tensor.byteLength() == 0) {
            return ByteBuffer.allocateDirect(0).order(ByteOrder.LITTLE_ENDIAN);
        }
        MappedByteBuffer bytes = channel.map(FileChannel.MapMode.READ_ONLY,
                header.dataStart() + tensor.begin(), tensor.byteLength());
        return bytes.order(ByteOrder.LITTLE_ENDIAN);
    }

    private static ByteBuffer floatBytes(float[] values) {
        ByteBuffer bytes = ByteBuffer.allocateDirect(values.length * Float.BYTES).order(ByteOrder.nativeOrder());
        bytes.asFloatBuffer().put(values);
        return bytes;
    }

    private static IllegalArgumentException notFloat(TensorInfo tensor) {
        return new IllegalArgumentException(tensor.name() + " is " + tensor.dtype()
                + ", not a floating-point tensor (F32, F16, BF16 or F64)");
    }
}
