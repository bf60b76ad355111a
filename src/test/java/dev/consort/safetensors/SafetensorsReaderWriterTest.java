package dev.consort.safetensors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;

import dev.consort.support.TestSafetensors;

class SafetensorsReaderWriterTest {

    @TempDir
    Path dir;

    private static final float[] A = {1f, -2.5f, 3.25f, 0f, 1e-3f, -7f};
    private static final float[] B = {0.1f, 0.2f, 0.3f};

    private Path write(DType dtype) throws IOException {
        Path file = dir.resolve("out-" + dtype + ".safetensors");
        SafetensorsWriter.write(file, List.of(
                new SafetensorsWriter.Tensor("layer.weight", new long[] {2, 3}, () -> A),
                new SafetensorsWriter.Tensor("layer.bias", new long[] {3}, () -> B),
                new SafetensorsWriter.Tensor("empty", new long[] {0, 4}, () -> new float[0])),
                dtype, Map.of("step", "7"));
        return file;
    }

    @Test
    void writesAHeaderTheStrictParserAcceptsWithPaddingMetadataAndTiledOffsets() throws IOException {
        Path file = write(DType.F32);
        SafetensorsHeader header = SafetensorsHeader.read(file);
        assertThat(header.headerLength() % 8).isZero();
        assertThat(header.metadata()).containsExactly(Map.entry("format", "pt"), Map.entry("step", "7"));
        assertThat(header.tensors()).extracting(TensorInfo::name).containsExactly("layer.weight", "layer.bias", "empty");
        assertThat(header.tensors()).extracting(TensorInfo::begin).containsExactly(0L, 24L, 36L);
        assertThat(header.dataLength()).isEqualTo(36);
        assertThat(Files.size(file)).isEqualTo(8 + header.headerLength() + 36);
        byte[] bytes = Files.readAllBytes(file);
        String json = new String(bytes, 8, (int) header.headerLength(), StandardCharsets.UTF_8);
        assertThat(json).startsWith("{\"__metadata__\":{\"format\":\"pt\"");
        String padding = json.substring(json.stripTrailing().length());
        assertThat(json.stripTrailing()).endsWith("}");
        assertThat(padding).matches(" {0,7}");
    }

    @Test
    void roundTripsF32ExactlyAsFloatsAndArrays() throws IOException {
        try (SafetensorsReader reader = SafetensorsReader.open(write(DType.F32));
                NDManager manager = NDManager.newBaseManager()) {
            assertThat(reader.floats("layer.weight")).containsExactly(A);
            assertThat(reader.floats("layer.bias")).containsExactly(B);
            assertThat(reader.floats("empty")).isEmpty();
            NDArray copy = reader.array("layer.weight", manager);
            assertThat(copy.getShape().getShape()).containsExactly(2, 3);
            assertThat(copy.toFloatArray()).containsExactly(A);
            NDArray mapped = reader.mappedArray("layer.bias", manager);
            assertThat(mapped.toFloatArray()).containsExactly(B);
            // The copy is the caller's: changing it in place leaves the file alone.
            copy.addi(1);
            assertThat(reader.floats("layer.weight")).containsExactly(A);
        }
    }

    @Test
    void roundTripsF16WithinHalfPrecision() throws IOException {
        Path file = write(DType.F16);
        SafetensorsHeader header = SafetensorsHeader.read(file);
        assertThat(header.tensors()).allSatisfy(t -> assertThat(t.dtype()).isEqualTo(DType.F16));
        try (SafetensorsReader reader = SafetensorsReader.open(file); NDManager manager = NDManager.newBaseManager()) {
            float[] a = reader.floats("layer.weight");
            for (int i = 0; i < A.length; i++) {
                assertThat(a[i]).isCloseTo(A[i], within(Math.abs(A[i]) / 1024 + 1e-7f));
            }
            assertThat(reader.mappedArray("layer.bias", manager).toFloatArray()).containsExactly(reader.floats("layer.bias"));
        }
    }

    @Test
    void widensBf16AndNarrowsF64() throws IOException {
        ByteBuffer f64 = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putDouble(0.1).putDouble(-3);
        ByteBuffer bf16 = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN)
                .putShort((short) (Float.floatToIntBits(1.5f) >>> 16)).putShort((short) (Float.floatToIntBits(-2f) >>> 16));
        Path file = dir.resolve("mixed.safetensors");
        Files.write(file, new TestSafetensors()
                .add("d", "F64", new long[] {2}, f64.array())
                .add("b", "BF16", new long[] {2}, bf16.array())
                .add("i", "I32", new long[] {1}, new byte[4])
                .toBytes());
        try (SafetensorsReader reader = SafetensorsReader.open(file); NDManager manager = NDManager.newBaseManager()) {
            assertThat(reader.floats("d")).containsExactly(0.1f, -3f);
            assertThat(reader.array("b", manager).toFloatArray()).containsExactly(1.5f, -2f);
            assertThat(reader.mappedArray("d", manager).toFloatArray()).containsExactly(0.1f, -3f);
            assertThatThrownBy(() -> reader.floats("i")).hasMessageContaining("not a floating-point tensor");
            assertThatThrownBy(() -> reader.floats("nope")).hasMessageContaining("no tensor nope");
        }
    }

    @Test
    void openRejectsMalformedFiles() throws IOException {
        Path file = dir.resolve("bad.safetensors");
        Files.write(file, TestSafetensors.file("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,4]}}",
                new byte[4]));
        assertThatThrownBy(() -> SafetensorsReader.open(file)).isInstanceOf(SafetensorsFormatException.class);
    }

    @Test
    void writerRejectsRepeatedNamesAndWrongValueCounts() {
        Path file = dir.resolve("x.safetensors");
        assertThatThrownBy(() -> SafetensorsWriter.write(file, List.of(
                new SafetensorsWriter.Tensor("a", new long[] {1}, () -> new float[1]),
                new SafetensorsWriter.Tensor("a", new long[] {1}, () -> new float[1])), DType.F32))
                .hasMessageContaining("repeated");
        assertThatThrownBy(() -> SafetensorsWriter.write(file, List.of(
                new SafetensorsWriter.Tensor("a", new long[] {2}, () -> new float[3])), DType.F32))
                .hasMessageContaining("3 values");
        assertThatThrownBy(() -> SafetensorsWriter.write(file, List.of(), DType.F64))
                .hasMessageContaining("F32, F16 or BF16");
    }

    @Test
    void roundTripsBf16AsTheUpperHalfOfEachFloatRoundedToNearestEven() throws IOException {
        Path file = write(DType.BF16);
        assertThat(SafetensorsHeader.read(file).tensors()).allSatisfy(t -> assertThat(t.dtype()).isEqualTo(DType.BF16));
        try (SafetensorsReader reader = SafetensorsReader.open(file)) {
            float[] a = reader.floats("layer.weight");
            for (int i = 0; i < A.length; i++) {
                assertThat(a[i]).isEqualTo(HalfPrecision.bf16ToFloat(HalfPrecision.floatToBf16(A[i])));
                assertThat(a[i]).isCloseTo(A[i], within(Math.abs(A[i]) / 128 + 1e-30f));
            }
        }
        // 1 + 2^-8 lies halfway between 1 and 1 + 2^-7: ties go to the even one, 1; a little more rounds up.
        assertThat(HalfPrecision.floatToBf16(1f)).isEqualTo((short) 0x3F80);
        assertThat(HalfPrecision.floatToBf16(1f + 0x1p-8f)).isEqualTo((short) 0x3F80);
        assertThat(HalfPrecision.floatToBf16(1f + 0x1p-8f + 0x1p-10f)).isEqualTo((short) 0x3F81);
        assertThat(Float.isNaN(HalfPrecision.bf16ToFloat(HalfPrecision.floatToBf16(Float.NaN)))).isTrue();
    }

    @Test
    void floatToF16RoundsToNearestEvenAndInvertsWidening() {
        assertThat(HalfPrecision.floatToF16(1f)).isEqualTo((short) 0x3C00);
        assertThat(HalfPrecision.floatToF16(-2f)).isEqualTo((short) 0xC000);
        assertThat(HalfPrecision.floatToF16(65504f)).isEqualTo((short) 0x7BFF);
        assertThat(HalfPrecision.floatToF16(65520f)).isEqualTo((short) 0x7C00);
        assertThat(HalfPrecision.floatToF16(0x1p-24f)).isEqualTo((short) 0x0001);
        assertThat(HalfPrecision.floatToF16(0x1p-26f)).isEqualTo((short) 0x0000);
        // 1 + 2^-11 is halfway between 1 and the next half: ties to the even one, 1.
        assertThat(HalfPrecision.floatToF16(1f + 0x1p-11f)).isEqualTo((short) 0x3C00);
        assertThat(HalfPrecision.floatToF16(1f + 0x1p-11f + 0x1p-20f)).isEqualTo((short) 0x3C01);
        assertThat(Float.isNaN(HalfPrecision.f16ToFloat(HalfPrecision.floatToF16(Float.NaN)))).isTrue();
        for (int bits = 0; bits < 0x10000; bits++) {
            float value = HalfPrecision.f16ToFloat((short) bits);
            if (!Float.isNaN(value)) {
                assertThat(HalfPrecision.floatToF16(value)).as("half 0x%04x", bits).isEqualTo((short) bits);
            }
        }
    }
}
