package dev.consort.storage;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A published blob survives a power cut (issue 16, item 7): its bytes are flushed before the rename that makes it
 * visible, and the directory holding the new name is flushed after it, all before {@code publish} returns and the
 * caller commits a row naming the blob. A missing flush only shows after a real power cut, so the flushes are
 * watched through the store's {@link DiskSync}, with where the blob stands at each one.
 */
class FilesystemBlobStoreDurabilityTest {

    @TempDir
    Path root;

    /** Records each flush: what was flushed, and whether the blob was visible under its name at that moment. */
    private static final class RecordingSync implements DiskSync {
        final List<String> flushes = new ArrayList<>();
        Path blob;
        Path objects;

        @Override
        public void force(FileChannel file) throws IOException {
            flushes.add("file of " + file.size() + " bytes, blob " + visibility());
            DiskSync.SYSTEM.force(file);
        }

        @Override
        public void forceDirectory(Path dir) throws IOException {
            flushes.add("directory " + objects.relativize(dir) + ", blob " + visibility());
            DiskSync.SYSTEM.forceDirectory(dir);
        }

        private String visibility() {
            return Files.exists(blob) ? "visible" : "not visible";
        }
    }

    @Test
    void theBytesAreFlushedBeforeTheRenameAndTheDirectoriesAfterIt() throws Exception {
        RecordingSync sync = new RecordingSync();
        FilesystemBlobStore store = new FilesystemBlobStore(root, sync);
        byte[] bytes = BlobStoreContract.randomBytes(10_000, 3);
        String sha = BlobStoreContract.sha256(bytes);
        sync.objects = root.resolve("sha256").toAbsolutePath();
        sync.blob = store.pathOf(sha);

        try (StagedBlob staged = store.stage(new ByteArrayInputStream(bytes))) {
            assertThat(sync.flushes).containsExactly("file of 10000 bytes, blob not visible");
            store.publish(staged);
        }

        assertThat(sync.flushes).containsExactly(
                "file of 10000 bytes, blob not visible",
                // The new shard directory's entry in sha256/, before the blob is renamed into it.
                "directory , blob not visible",
                "directory " + sha.substring(0, 2) + ", blob visible");
        assertThat(Files.readAllBytes(sync.blob)).isEqualTo(bytes);
    }

    @Test
    void aSecondBlobInAnExistingShardFlushesOnlyItsOwnFileAndDirectory() throws Exception {
        RecordingSync sync = new RecordingSync();
        FilesystemBlobStore store = new FilesystemBlobStore(root, sync);
        sync.objects = root.resolve("sha256").toAbsolutePath();
        byte[] first = BlobStoreContract.randomBytes(1_000, 5);
        sync.blob = store.pathOf(BlobStoreContract.sha256(first));
        try (StagedBlob staged = store.stage(new ByteArrayInputStream(first))) {
            store.publish(staged);
        }
        // Another blob whose name shares the first one's two-character shard.
        String shard = BlobStoreContract.sha256(first).substring(0, 2);
        byte[] second = BlobStoreContract.randomBytes(1_000, 6);
        for (int seed = 7; !BlobStoreContract.sha256(second).startsWith(shard); seed++) {
            second = BlobStoreContract.randomBytes(1_000, seed);
        }
        String sha = BlobStoreContract.sha256(second);
        sync.blob = store.pathOf(sha);
        sync.flushes.clear();

        try (StagedBlob staged = store.stage(new ByteArrayInputStream(second))) {
            store.publish(staged);
        }

        assertThat(sync.flushes).containsExactly(
                "file of 1000 bytes, blob not visible",
                "directory " + sha.substring(0, 2) + ", blob visible");
    }
}
