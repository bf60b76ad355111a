package dev.consort.safetensors;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.consort.support.TestSafetensors;

class SafetensorsNonFiniteValueTest {

    @TempDir
    Path dir;

    private Optional<NonFiniteValue> scan(byte[] file) throws IOException {
        Path path = dir.resolve("model.safetensors");
        Files.write(path, file);
        try (FileChannel channel = FileChannel.open(path)) {
            SafetensorsHeader header = SafetensorsHeader.read(channel, channel.size());
            return NonFiniteValue.findFirst(channel, header, header.tensors());
        }
    }

    private static byte[] shorts(int... values) {
        ByteBuffer out = ByteBuffer.allocate(values.length * 2).order(ByteOrder.LITTLE_ENDIAN);
        for (int v : values) {
            out.putShort((short) v);
        }
        return out.array();
    }

    private static byte[] doubles(double... values) {
        ByteBuffer out = ByteBuffer.allocate(values.length * 8).order(ByteOrder.LITTLE_ENDIAN);
        for (double v : values) {
            out.putDouble(v);
        }
        return out.array();
    }

    @Test
    void findsTheFirstNonFiniteValueInFileOrder() throws IOException {
        // Larger than one buffer, so the bad value sits in the second read.
        float[] values = new float[(1 << 18) + 10];
        values[(1 << 18) + 3] = Float.POSITIVE_INFINITY;
        byte[] file = new TestSafetensors()
                .add("fine", "F32", new long[] {2}, TestSafetensors.f32(1, 2))
                .add("big", "F32", new long[] {values.length}, TestSafetensors.f32(values))
                .add("later", "F32", new long[] {1}, TestSafetensors.f32(Float.NaN))
                .toBytes();
        assertThat(scan(file)).hasValueSatisfying(v -> {
            assertThat(v.tensor()).isEqualTo("big");
            assertThat(v.index()).isEqualTo((1 << 18) + 3);
            assertThat(v.describe()).isEqualTo("+Infinity");
        });
    }

    @Test
    void checksEveryFloatDtypeAndSkipsIntegers() throws IOException {
        assertThat(scan(new TestSafetensors().add("h", "F16", new long[] {3}, shorts(0x3C00, 0x0001, 0xFC00)).toBytes()))
                .hasValueSatisfying(v -> assertThat(v.describe()).isEqualTo("-Infinity"));
        assertThat(scan(new TestSafetensors().add("b", "BF16", new long[] {2}, shorts(0x3F80, 0x7FC1)).toBytes()))
                .hasValueSatisfying(v -> assertThat(v.index()).isEqualTo(1));
        assertThat(scan(new TestSafetensors().add("d", "F64", new long[] {2}, doubles(1e300, Double.NaN)).toBytes()))
                .hasValueSatisfying(v -> assertThat(v.describe()).isEqualTo("NaN"));
        assertThat(scan(new TestSafetensors().add("i", "I32", new long[] {1}, new byte[] {0, 0, (byte) 0x80, 0x7F})
                .toBytes())).isEmpty();
        assertThat(scan(new TestSafetensors().add("ok", "F16", new long[] {2}, shorts(0x7BFF, 0x8400)).toBytes()))
                .isEmpty();
    }

    @Test
    void widensHalfPrecisionExactly() {
        assertThat(HalfPrecision.f16ToFloat((short) 0x3C00)).isEqualTo(1.0f);
        assertThat(HalfPrecision.f16ToFloat((short) 0xC000)).isEqualTo(-2.0f);
        assertThat(HalfPrecision.f16ToFloat((short) 0x7BFF)).isEqualTo(65504f);
        assertThat(HalfPrecision.f16ToFloat((short) 0x0001)).isEqualTo(0x1p-24f);
        assertThat(HalfPrecision.f16ToFloat((short) 0x8000)).isEqualTo(-0.0f);
        assertThat(HalfPrecision.f16ToFloat((short) 0x3555)).isEqualTo(0.33325195f);
        assertThat(HalfPrecision.f16ToFloat((short) 0x7C00)).isEqualTo(Float.POSITIVE_INFINITY);
        assertThat(HalfPrecision.f16ToFloat((short) 0x7E00)).isNaN();
        assertThat(HalfPrecision.bf16ToFloat((short) 0x3F80)).isEqualTo(1.0f);
        assertThat(HalfPrecision.bf16ToFloat((short) 0xC049)).isEqualTo(-3.140625f);
        assertThat(HalfPrecision.bf16ToFloat((short) 0xFF80)).isEqualTo(Float.NEGATIVE_INFINITY);
    }
}
