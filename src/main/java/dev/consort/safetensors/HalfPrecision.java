package dev.consort.safetensors;

/**
 * Widening of 16-bit floats to float, in plain Java: Java 17 has no {@code Float.float16ToFloat}, and
 * DJL aborts the JVM on BF16 arrays, so half-precision weights are widened while they are read.
 */
public final class HalfPrecision {

    private HalfPrecision() {}

    /** IEEE 754 binary16 (1 sign, 5 exponent, 10 fraction bits) to float, exactly. */
    public static float f16ToFloat(short bits) {
        int sign = (bits & 0x8000) << 16;
        int exponent = (bits >>> 10) & 0x1F;
        int fraction = bits & 0x3FF;
        if (exponent == 0x1F) {
            // Infinity or NaN: keep the fraction so a NaN stays a NaN.
            return Float.intBitsToFloat(sign | 0x7F800000 | (fraction << 13));
        }
        if (exponent == 0) {
            if (fraction == 0) {
                return Float.intBitsToFloat(sign);
            }
            // Subnormal: fraction × 2^-24.
            float magnitude = fraction * 0x1p-24f;
            return sign == 0 ? magnitude : -magnitude;
        }
        return Float.intBitsToFloat(sign | ((exponent - 15 + 127) << 23) | (fraction << 13));
    }

    /** bfloat16 is the upper half of a float. */
    public static float bf16ToFloat(short bits) {
        return Float.intBitsToFloat((bits & 0xFFFF) << 16);
    }
}
