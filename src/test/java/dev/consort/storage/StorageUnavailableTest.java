package dev.consort.storage;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

import dev.consort.support.LowLimitsApiTest;
import dev.consort.support.Multipart;
import dev.consort.support.TinyGpt2;

/**
 * When the service cannot write to its own storage, an upload gets a 507 {@code storage-unavailable}
 * problem and leaves no row, no blob reference and no file; once storage is back, uploads work again.
 * Storage is made unwritable by putting a regular file where a directory must be (this works whoever runs
 * the tests: root ignores permission bits), and, where the test may mount filesystems, by a real full disk.
 */
class StorageUnavailableTest extends LowLimitsApiTest {

    private static final String STORAGE_UNAVAILABLE = "https://consort.dev/problems/storage-unavailable";

    private Multipart checkpoint(long seed) {
        TinyGpt2 model = new TinyGpt2().vocab(4096).seed(seed);
        return new Multipart().file("config", "config.json", model.config())
                .file("weights", "model.safetensors", model.weights());
    }

    private static Multipart dataset(String text) {
        return new Multipart().file("file", "notes.txt", text.getBytes(UTF_8));
    }

    private void assertStorageProblem(HttpResponse<String> response) {
        assertThat(response.statusCode()).as(response.body()).isEqualTo(507);
        assertThat(response.headers().firstValue("Content-Type")).hasValueSatisfying(
                ct -> assertThat(ct).startsWith("application/problem+json"));
        assertThat(json(response).path("type").asText()).isEqualTo(STORAGE_UNAVAILABLE);
        assertThat(json(response).path("detail").asText()).contains("nothing was stored")
                .doesNotContain(dataDir.toString());
    }

    /** Replaces {@code dir} by a regular file until closed, then puts the directory back. */
    private static AutoCloseable unwritable(Path dir) throws IOException {
        Path aside = dir.resolveSibling(dir.getFileName() + ".aside");
        Files.move(dir, aside);
        Files.writeString(dir, "not a directory");
        return () -> {
            Files.delete(dir);
            Files.move(aside, dir);
        };
    }

    @Test
    void anUnwritableBlobDirectoryRefusesUploadsWith507AndStoresNothing() throws Exception {
        Traces before = traces();
        try (AutoCloseable broken = unwritable(dataDir.resolve("blobs").resolve("sha256"))) {
            assertStorageProblem(post("/checkpoints", checkpoint(501)));
            assertStorageProblem(post("/datasets", dataset("first record\n\nsecond record\n")));
        }
        assertThat(traces()).isEqualTo(before);
        assertThat(post("/checkpoints", checkpoint(501)).statusCode()).isEqualTo(201);
        assertThat(post("/datasets", dataset("first record\n\nsecond record\n")).statusCode()).isEqualTo(201);
    }

    @Test
    void anUnwritableStagingDirectoryRefusesUploadsWith507AndStoresNothing() throws Exception {
        Traces before = traces();
        try (AutoCloseable broken = unwritable(dataDir.resolve("blobs").resolve("staging"))) {
            assertStorageProblem(post("/checkpoints", checkpoint(502)));
            assertStorageProblem(post("/datasets", dataset("a record\n\nanother one\n")));
            assertThat(traces()).isEqualTo(before);
        }
        assertThat(traces()).isEqualTo(before);
        assertThat(post("/checkpoints", checkpoint(502)).statusCode()).isEqualTo(201);
    }

    @Test
    void anUnwritableUploadDirectoryRefusesUploadsWith507AndStoresNothing() throws Exception {
        Traces before = traces();
        try (AutoCloseable broken = unwritable(dataDir.resolve("multipart"))) {
            assertStorageProblem(post("/checkpoints", checkpoint(503)));
            assertStorageProblem(post("/datasets", dataset("one\n\ntwo\n")));
            assertThat(traces()).isEqualTo(before);
        }
        assertThat(traces()).isEqualTo(before);
        assertThat(post("/checkpoints", checkpoint(503)).statusCode()).isEqualTo(201);
    }

    @Test
    void anUnwritableTokenDirectoryRefusesDatasetsWith507AndStoresNothing() throws Exception {
        Traces before = traces();
        try (AutoCloseable broken = unwritable(dataDir.resolve("tmp"))) {
            assertStorageProblem(post("/datasets", dataset("three\n\nfour\n")));
            assertThat(traces()).isEqualTo(before);
        }
        assertThat(traces()).isEqualTo(before);
        assertThat(post("/datasets", dataset("three\n\nfour\n")).statusCode()).isEqualTo(201);
    }

    /**
     * A real full disk (ENOSPC): a 64 KiB tmpfs over the staging directory, then over the upload directory,
     * and a checkpoint whose weights are larger. Needs the right to mount (root with CAP_SYS_ADMIN).
     */
    @Test
    void aFullDiskRefusesUploadsWith507AndStoresNothing() throws Exception {
        byte[] weights = new TinyGpt2().vocab(4096).seed(504).weights();
        assertThat(weights.length).isGreaterThan(64 * 1024);
        for (Path dir : new Path[] {dataDir.resolve("blobs").resolve("staging"), dataDir.resolve("multipart")}) {
            assumeTrue(mountTmpfs(dir, "64k"), "cannot mount a tmpfs here (needs root with CAP_SYS_ADMIN)");
            Traces before;
            try {
                before = traces();
                assertStorageProblem(post("/checkpoints", checkpoint(504)));
                assertThat(traces()).isEqualTo(before);
            } finally {
                assertThat(run("umount", dir.toString())).as("umount " + dir).isZero();
            }
        }
        assertThat(post("/checkpoints", checkpoint(504)).statusCode()).isEqualTo(201);
    }

    private static boolean mountTmpfs(Path dir, String size) throws Exception {
        return run("mount", "-t", "tmpfs", "-o", "size=" + size, "tmpfs", dir.toString()) == 0;
    }

    private static int run(String... command) throws Exception {
        Process process;
        try {
            process = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD)
                    .start();
        } catch (IOException e) {
            return -1;
        }
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            return -1;
        }
        return process.exitValue();
    }
}
