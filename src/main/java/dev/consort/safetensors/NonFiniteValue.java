package dev.consort.safetensors;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;

/**
 * A NaN or infinite element of a floating-point tensor: {@code index} is its position in the tensor's
 * row-major order. {@link #findFirst} streams the data through a small buffer, so files of any size
 * are checked without holding them in the heap.
 */
public record NonFiniteValue(String tensor, long index, double value) {

    private static final int BUFFER_BYTES = 1 << 20;

    /** "NaN", "+Infinity" or "-Infinity". */
    public String describe() {
        return Double.isNaN(value) ? "NaN" : value > 0 ? "+Infinity" : "-Infinity";
    }

    /**
     * The first non-finite value of {@code tensors} (F64, F32, F16 and BF16 ones; others have none),
     * visiting them in file order, or empty when all are finite.
     */
    public static Optional<NonFiniteValue> findFirst(FileChannel channel, SafetensorsHeader header,
            Collection<TensorInfo> tensors) throws IOException {
        List<TensorInfo> inFileOrder = tensors.stream().sorted(Comparator.comparingLong(TensorInfo::begin)).toList();
        ByteBuffer buffer = ByteBuffer.allocate(BUFFER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
        for (TensorInfo tensor : inFileOrder) {
            int size = tensor.dtype().size();
            if (!isFloatingPoint(tensor.dtype())) {
                continue;
            }
            long position = header.dataStart() + tensor.begin();
            long remaining = tensor.byteLength();
            long index = 0;
            while (remaining > 0) {
                // BUFFER_BYTES is a multiple of every element size, so no element straddles two reads.
                buffer.clear().limit((int) Math.min(BUFFER_BYTES, remaining));
                while (buffer.hasRemaining()) {
                    int n = channel.read(buffer, position + buffer.position());
                    if (n < 0) {
                        throw new EOFException("file ended inside tensor " + tensor.name());
                    }
                }
                buffer.flip();
                int count = buffer.limit() / size;
                for (int i = 0; i < count; i++) {
                    double value = switch (tensor.dtype()) {
                        case F64 -> buffer.getDouble(i * 8);
                        case F32 -> buffer.getFloat(i * 4);
                        case F16 -> HalfPrecision.f16ToFloat(buffer.getShort(i * 2));
                        case BF16 -> HalfPrecision.bf16ToFloat(buffer.getShort(i * 2));
                        default -> throw new IllegalStateException("not a float dtype: " + tensor.dtype());
                    };
                    if (!Double.isFinite(value)) {
                        return Optional.of(new NonFiniteValue(tensor.name(), index + i, value));
                    }
                }
                position += buffer.limit();
                remaining -= buffer.limit();
                index += count;
            }
        }
        return Optional.empty();
    }

    private static boolean isFloatingPoint(DType dtype) {
        return dtype == DType.F64 || dtype == DType.F32 || dtype == DType.F16 || dtype == DType.BF16;
    }
}
