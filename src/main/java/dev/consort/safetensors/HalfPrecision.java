package dev.consort.safetensors;

/**
 * Conversions between 16-bit floats and float, in plain Java: Java 17 has no {@code Float.float16ToFloat},
 * and DJL aborts the JVM on BF16 arrays, so half-precision weights are widened while they are read and
 * narrowed while they are written.
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

    /**
     * float to bfloat16, rounding to nearest with ties to even (as PyTorch's {@code .bfloat16()}); NaN stays NaN.
     */
    public static short floatToBf16(float value) {
        int bits = Float.floatToRawIntBits(value);
        if ((bits & 0x7FFFFFFF) > 0x7F800000) {
            return (short) ((bits >>> 16) | 0x40);
        }
        int rounding = 0x7FFF + ((bits >>> 16) & 1);
        return (short) ((bits + rounding) >>> 16);
    }

    /**
     * float to IEEE 754 binary16, rounding to nearest with ties to even (as PyTorch's {@code .half()}):
     * beyond the largest half (65504) becomes infinity, tiny values become subnormals or zero, NaN stays NaN.
     */
    public static short floatToF16(float value) {
        int bits = Float.floatToRawIntBits(value);
        int sign = (bits >>> 16) & 0x8000;
        int exponent = (bits >>> 23) & 0xFF;
        int mantissa = bits & 0x7FFFFF;
        if (exponent == 0xFF) {
            return (short) (sign | 0x7C00 | (mantissa != 0 ? 0x200 : 0));
        }
        int halfExponent = exponent - 127 + 15;
        if (halfExponent >= 0x1F) {
            return (short) (sign | 0x7C00);
        }
        if (halfExponent <= 0) {
            if (halfExponent < -10) {
                return (short) sign;
            }
            // Subnormal half: shift the mantissa, with its implicit leading 1, into place and round.
            int full = mantissa | 0x800000;
            int shift = 14 - halfExponent;
            int half = full >> shift;
            int rest = full & ((1 << shift) - 1);
            int halfway = 1 << (shift - 1);
            if (rest > halfway || (rest == halfway && (half & 1) != 0)) {
                half++;
            }
            return (short) (sign | half);
        }
        int half = (halfExponent << 10) | (mantissa >> 13);
        int rest = mantissa & 0x1FFF;
        // A carry out of the mantissa rightly bumps the exponent, up to infinity.
        if (rest > 0x1000 || (rest == 0x1000 && (half & 1) != 0)) {
            half++;
        }
        return (short) (sign | half);
    }
}
