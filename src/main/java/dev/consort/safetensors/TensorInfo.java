package dev.consort.safetensors;

import java.util.Arrays;

/**
 * One tensor of a safetensors file as its header describes it: {@code begin} and {@code end} are byte
 * offsets into the data buffer (which starts right after the header), end exclusive.
 */
public record TensorInfo(String name, DType dtype, long[] shape, long begin, long end) {

    public TensorInfo {
        shape = shape.clone();
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    /** Product of the shape (1 for a scalar); the header parser has checked that it fits a long. */
    public long elementCount() {
        long count = 1;
        for (long dim : shape) {
            count = Math.multiplyExact(count, dim);
        }
        return count;
    }

    public long byteLength() {
        return end - begin;
    }

    /** The shape as {@code [768, 2304]}, as error messages print it. */
    public static String formatShape(long[] shape) {
        return Arrays.toString(shape);
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof TensorInfo t && name.equals(t.name) && dtype == t.dtype
                && Arrays.equals(shape, t.shape) && begin == t.begin && end == t.end;
    }

    @Override
    public int hashCode() {
        return (name.hashCode() * 31 + Arrays.hashCode(shape)) * 31 + Long.hashCode(begin);
    }

    @Override
    public String toString() {
        return name + " " + dtype + " " + formatShape(shape) + " @[" + begin + ", " + end + ")";
    }
}
