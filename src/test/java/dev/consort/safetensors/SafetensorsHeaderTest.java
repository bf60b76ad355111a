package dev.consort.safetensors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.consort.support.TestSafetensors;

class SafetensorsHeaderTest {

    @TempDir
    Path dir;

    private SafetensorsHeader read(byte[] file) throws IOException {
        Path path = dir.resolve("model.safetensors");
        Files.write(path, file);
        return SafetensorsHeader.read(path);
    }

    private void assertRejected(byte[] file, String subject, String messagePart) {
        assertThatThrownBy(() -> read(file))
                .isInstanceOfSatisfying(SafetensorsFormatException.class, e -> {
                    assertThat(e.subject()).isEqualTo(subject);
                    assertThat(e.reason()).contains(messagePart);
                });
    }

    private static byte[] twoTensors(String header, int dataBytes) {
        return TestSafetensors.file(header, new byte[dataBytes]);
    }

    @Test
    void readsTensorsMetadataAndOffsets() throws IOException {
        byte[] file = new TestSafetensors().metadata("format", "pt")
                .add("a", "F32", new long[] {2, 3}, new byte[24])
                .add("b", "BF16", new long[] {4}, new byte[8])
                .add("scalar", "F64", new long[] {}, new byte[8])
                .add("empty", "F16", new long[] {0, 5}, new byte[0])
                .toBytes();
        SafetensorsHeader header = read(file);
        assertThat(header.metadata()).containsEntry("format", "pt");
        assertThat(header.tensors()).extracting(TensorInfo::name).containsExactly("a", "b", "scalar", "empty");
        TensorInfo a = header.tensors().get(0);
        assertThat(a.dtype()).isEqualTo(DType.F32);
        assertThat(a.shape()).containsExactly(2, 3);
        assertThat(a.elementCount()).isEqualTo(6);
        assertThat(header.tensors().get(1).begin()).isEqualTo(24);
        assertThat(header.tensors().get(2).elementCount()).isEqualTo(1);
        assertThat(header.dataLength()).isEqualTo(40);
        assertThat(header.dataStart() + header.dataLength()).isEqualTo(file.length);
    }

    @Test
    void tensorsMayBeStoredInAnyOrder() throws IOException {
        String header = """
                {"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]},"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}""";
        assertThat(read(twoTensors(header, 8)).tensors()).extracting(TensorInfo::name).containsExactly("b", "a");
    }

    @Test
    void rejectsFilesShorterThanTheLength() {
        assertRejected(new byte[5], "file", "too short");
        assertRejected(new byte[0], "file", "0 bytes");
    }

    @Test
    void rejectsAHeaderLengthLargerThanTheFile() {
        byte[] header = "{}".getBytes(StandardCharsets.UTF_8);
        assertRejected(TestSafetensors.withLength(100, header, new byte[0]), "header", "header length 100 larger than the file");
    }

    @Test
    void rejectsAHeaderLengthBeyondTheCap() {
        assertRejected(TestSafetensors.withLength(1L << 30, new byte[16], new byte[0]), "header", "exceeds the cap");
        assertRejected(TestSafetensors.withLength(-1, new byte[16], new byte[0]), "header", "18446744073709551615");
    }

    /**
     * The header length is checked against the cap and the file size before any buffer is made: a file of a
     * few bytes claiming a 1 GB header (or 99 MB, under the cap but beyond the file) costs no such memory.
     */
    @Test
    void aOneGigabyteHeaderClaimIsRejectedWithoutAllocatingIt() throws IOException {
        Path oneGigabyte = dir.resolve("claims-1GB.safetensors");
        Files.write(oneGigabyte, TestSafetensors.withLength(1L << 30, "{}".getBytes(StandardCharsets.UTF_8), new byte[64]));
        Path beyondTheFile = dir.resolve("claims-99MB.safetensors");
        Files.write(beyondTheFile, TestSafetensors.withLength(99L << 20, "{}".getBytes(StandardCharsets.UTF_8), new byte[64]));
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        // Once first, so class loading and the exception path are not counted.
        assertThatThrownBy(() -> SafetensorsHeader.read(oneGigabyte)).hasMessageContaining("exceeds the cap");
        assertThatThrownBy(() -> SafetensorsHeader.read(beyondTheFile)).hasMessageContaining("larger than the file");

        long before = threads.getCurrentThreadAllocatedBytes();
        for (int i = 0; i < 3; i++) {
            assertThatThrownBy(() -> SafetensorsHeader.read(oneGigabyte)).isInstanceOf(SafetensorsFormatException.class);
            assertThatThrownBy(() -> SafetensorsHeader.read(beyondTheFile)).isInstanceOf(SafetensorsFormatException.class);
        }
        long allocated = threads.getCurrentThreadAllocatedBytes() - before;

        assertThat(allocated).as("bytes allocated by six rejections").isLessThan(1L << 20);
    }

    @Test
    void rejectsHeadersThatAreNotUtf8JsonObjects() {
        assertRejected(TestSafetensors.file("not json", new byte[0]), "header", "not valid JSON");
        assertRejected(TestSafetensors.file("[1, 2]", new byte[0]), "header", "must be a JSON object");
        assertRejected(TestSafetensors.file("{} {}", new byte[0]), "header", "not valid JSON");
        byte[] badUtf8 = {'{', '"', (byte) 0xC3, (byte) 0x28, '"', ':', '1', '}'};
        assertRejected(TestSafetensors.file(badUtf8, new byte[0]), "header", "not valid UTF-8");
    }

    @Test
    void rejectsDuplicateKeys() {
        String header = """
                {"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}""";
        assertRejected(twoTensors(header, 8), "header", "Duplicate");
    }

    @Test
    void rejectsMalformedMetadata() {
        assertRejected(TestSafetensors.file("{\"__metadata__\":{\"format\":1}}", new byte[0]), "__metadata__", "format");
        assertRejected(TestSafetensors.file("{\"__metadata__\":[]}", new byte[0]), "__metadata__", "object");
    }

    @Test
    void rejectsMalformedTensorEntries() {
        assertRejected(TestSafetensors.file("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4],\"x\":1}}",
                new byte[4]), "a", "unexpected field \"x\"");
        assertRejected(TestSafetensors.file("{\"a\":{\"dtype\":\"F32\",\"shape\":[1]}}", new byte[4]), "a", "data_offsets");
        assertRejected(TestSafetensors.file("{\"a\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}",
                new byte[4]), "a", "shape entry -1");
        assertRejected(TestSafetensors.file("{\"a\":{\"dtype\":\"F32\",\"shape\":[1.5],\"data_offsets\":[0,4]}}",
                new byte[4]), "a", "shape entry 1.5");
        assertRejected(TestSafetensors.file("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4,8]}}",
                new byte[4]), "a", "2 entries");
        assertRejected(TestSafetensors.file("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,0]}}",
                new byte[4]), "a", "end before");
        assertRejected(TestSafetensors.file("{\"a\":{\"dtype\":\"F32\",\"shape\":[99999999999999999999],\"data_offsets\":[0,4]}}",
                new byte[4]), "a", "not a non-negative 64-bit integer");
    }

    @Test
    void rejectsUnknownDtypes() {
        assertRejected(TestSafetensors.file("{\"a\":{\"dtype\":\"F128\",\"shape\":[1],\"data_offsets\":[0,16]}}",
                new byte[16]), "a", "unknown dtype \"F128\"");
    }

    @Test
    void rejectsShapesWhoseSizeOverflows() {
        assertRejected(TestSafetensors.file(
                "{\"a\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,4]}}", new byte[4]),
                "a", "more elements than a 64-bit count");
        // Elements fit a long, bytes do not.
        assertRejected(TestSafetensors.file(
                "{\"a\":{\"dtype\":\"F64\",\"shape\":[4611686018427387904],\"data_offsets\":[0,4]}}", new byte[4]),
                "a", "more elements than a 64-bit count");
    }

    @Test
    void rejectsOffsetsThatDisagreeWithTheShape() {
        assertRejected(TestSafetensors.file("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,4]}}",
                new byte[4]), "a", "span 4 bytes but shape [2] of F32 needs 8");
    }

    @Test
    void rejectsOverlapsGapsAndOverruns() {
        String overlap = """
                {"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}""";
        assertRejected(twoTensors(overlap, 12), "b", "overlap a");
        String gap = """
                {"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}""";
        assertRejected(twoTensors(gap, 12), "b", "gap of 4 bytes");
        String late = """
                {"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}""";
        assertRejected(twoTensors(late, 8), "a", "gap of 4 bytes");
        String past = """
                {"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}""";
        assertRejected(twoTensors(past, 8), "b", "past the end of the data (8 bytes)");
        String trailing = """
                {"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}""";
        assertRejected(twoTensors(trailing, 12), "file", "cover only 4");
    }

    @Test
    void rejectsTruncatedData() {
        byte[] whole = new TestSafetensors().add("a", "F32", new long[] {4}, new byte[16]).toBytes();
        byte[] truncated = java.util.Arrays.copyOf(whole, whole.length - 3);
        assertRejected(truncated, "a", "past the end");
    }

    @Test
    void allowsAnEmptyFile() throws IOException {
        assertThat(read(TestSafetensors.file("{}", new byte[0])).tensors()).isEmpty();
    }
}
