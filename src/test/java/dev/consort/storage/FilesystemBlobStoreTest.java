package dev.consort.storage;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;

/** The filesystem store passes the blob-store contract, and lays its files out as documented. */
class FilesystemBlobStoreTest extends BlobStoreContract {

    @Override
    BlobStore createStore(Path root) throws IOException {
        return new FilesystemBlobStore(root);
    }

    @Test
    void blobsAreFilesUnderTheirSha256() throws Exception {
        FilesystemBlobStore store = new FilesystemBlobStore(root);
        byte[] bytes = "hello consort".getBytes();
        String sha = sha256(bytes);
        try (StagedBlob staged = store.stage(new ByteArrayInputStream(bytes))) {
            store.publish(staged);
        }
        Path expected = root.resolve("sha256").resolve(sha.substring(0, 2)).resolve(sha).toAbsolutePath();
        assertThat(store.pathOf(sha)).isEqualTo(expected);
        assertThat(store.localCopy(sha)).as("the blob itself, no copy").isEqualTo(expected);
    }

    /** A blob file whose bytes went bad on disk is not trusted: the next publish of its bytes replaces it. */
    @Test
    void aCorruptedBlobFileIsReplacedWhenTheSameBytesArePublishedAgain() throws Exception {
        FilesystemBlobStore store = new FilesystemBlobStore(root);
        byte[] bytes = randomBytes(50_000, 9);
        String sha = sha256(bytes);
        try (StagedBlob staged = store.stage(new ByteArrayInputStream(bytes))) {
            store.publish(staged);
        }
        byte[] corrupted = bytes.clone();
        corrupted[25_000] ^= 1;
        Files.write(store.pathOf(sha), corrupted);

        try (StagedBlob again = store.stage(new ByteArrayInputStream(bytes))) {
            store.publish(again);
        }

        assertThat(Files.readAllBytes(store.pathOf(sha))).isEqualTo(bytes);
        try (var staging = Files.walk(root.resolve("staging"))) {
            assertThat(staging.filter(Files::isRegularFile)).isEmpty();
        }
    }
}
