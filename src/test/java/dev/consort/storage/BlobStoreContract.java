package dev.consort.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Random;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.consort.support.OtherProcessDirectories;

/**
 * What every {@link BlobStore} must do, whatever holds the bytes: each implementation's test extends
 * this and says how to make a store whose local files (staging, caches) live under {@code root}.
 */
abstract class BlobStoreContract {

    @TempDir
    Path root;

    /** A fresh, empty store. */
    abstract BlobStore createStore(Path root) throws IOException;

    static String sha256(byte[] bytes) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    }

    static byte[] randomBytes(int size, long seed) {
        byte[] bytes = new byte[size];
        new Random(seed).nextBytes(bytes);
        return bytes;
    }

    private void assertNoStagingFiles() throws IOException {
        try (var files = Files.walk(root.resolve("staging"))) {
            assertThat(files.filter(Files::isRegularFile)).isEmpty();
        }
    }

    @Test
    void stagesHashesAndPublishesUnderTheSha256() throws Exception {
        BlobStore store = createStore(root);
        byte[] bytes = "hello consort".getBytes(StandardCharsets.UTF_8);
        String expected = sha256(bytes);

        try (StagedBlob staged = store.stage(new ByteArrayInputStream(bytes))) {
            assertThat(staged.sha256()).isEqualTo(expected);
            assertThat(staged.size()).isEqualTo(bytes.length);
            assertThat(store.exists(expected)).isFalse();
            store.publish(staged);
            assertThat(Files.exists(staged.file())).isFalse();
        }
        assertThat(store.exists(expected)).isTrue();
        try (InputStream in = store.open(expected)) {
            assertThat(in.readAllBytes()).isEqualTo(bytes);
        }
        store.delete(expected);
        assertThat(store.exists(expected)).isFalse();
    }

    @Test
    void publishingTheSameBytesTwiceKeepsOneCopyAndNoStagingFiles() throws Exception {
        BlobStore store = createStore(root);
        byte[] bytes = new byte[100_000];
        for (StagedBlob staged : new StagedBlob[] {store.stage(new ByteArrayInputStream(bytes)),
                store.stage(new ByteArrayInputStream(bytes))}) {
            try (staged) {
                store.publish(staged);
            }
        }
        assertNoStagingFiles();
        assertThat(store.listOlderThan(-1_000)).containsExactly(sha256(bytes));
    }

    @Test
    void aRejectedUploadLeavesNothing() throws Exception {
        BlobStore store = createStore(root);
        try (StagedBlob staged = store.stage(new ByteArrayInputStream(new byte[10]))) {
            assertThat(Files.exists(staged.file())).isTrue();
        }
        InputStream failing = new InputStream() {
            int left = 5000;
            @Override
            public int read() throws IOException {
                if (left-- <= 0) {
                    throw new IOException("client went away");
                }
                return 1;
            }
        };
        assertThatThrownBy(() -> store.stage(failing)).isInstanceOf(IOException.class);
        assertNoStagingFiles();
        assertThat(store.listOlderThan(-1_000)).isEmpty();
    }

    @Test
    void purgesOnlyStaleStagingFiles() throws Exception {
        BlobStore store = createStore(root);
        Path stale = Files.writeString(root.resolve("staging").resolve("upload-old.part"), "x");
        Files.setLastModifiedTime(stale, FileTime.fromMillis(System.currentTimeMillis() - 7_200_000));
        Path fresh = Files.writeString(root.resolve("staging").resolve("upload-new.part"), "y");
        assertThat(store.purgeStaleStaging(3_600_000)).isEqualTo(1);
        assertThat(Files.exists(stale)).isFalse();
        assertThat(Files.exists(fresh)).isTrue();
    }

    /** A process killed mid-upload cannot clean up: the next store opened on the same root does, at once. */
    @Test
    void removesTheStagingFilesOfADeadProcessButNotOfALiveOne() throws Exception {
        try (OtherProcessDirectories others = OtherProcessDirectories.under(root.resolve("staging"), "upload-1.part")) {
            createStore(root);

            assertThat(others.dead).doesNotExist();
            assertThat(others.reusedPid).doesNotExist();
            assertThat(others.live.resolve("upload-1.part")).exists();
            // Another host's process may still be running: only the age of its files can tell.
            assertThat(others.otherHost.resolve("upload-1.part")).exists();
        }
    }

    @Test
    void rejectsIdsThatAreNotSha256() throws Exception {
        BlobStore store = createStore(root);
        assertThatThrownBy(() -> store.open("../../etc/passwd")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> store.localCopy("ab")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> store.exists("ABCDEF")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> store.delete("x/../y")).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void aMissingBlobIsNoSuchFile() throws Exception {
        BlobStore store = createStore(root);
        String absent = sha256("never stored".getBytes(StandardCharsets.UTF_8));
        assertThat(store.exists(absent)).isFalse();
        assertThatThrownBy(() -> store.open(absent).close()).isInstanceOf(NoSuchFileException.class);
        assertThatThrownBy(() -> store.localCopy(absent)).isInstanceOf(NoSuchFileException.class);
        store.delete(absent);
    }

    @Test
    void aLocalCopyHoldsTheBytes() throws Exception {
        BlobStore store = createStore(root);
        byte[] bytes = randomBytes(300_000, 7);
        try (StagedBlob staged = store.stage(new ByteArrayInputStream(bytes))) {
            store.publish(staged);
        }
        Path copy = store.localCopy(sha256(bytes));
        assertThat(copy).isAbsolute();
        assertThat(Files.readAllBytes(copy)).isEqualTo(bytes);
        assertThat(store.localCopy(sha256(bytes))).isEqualTo(copy);
    }

    /** Large enough that a store with a multipart threshold (the S3 test's is 5 MB) uploads it in parts. */
    @Test
    void aLargeBlobRoundTrips() throws Exception {
        BlobStore store = createStore(root);
        byte[] bytes = randomBytes(12 * 1024 * 1024 + 123, 42);
        String sha = sha256(bytes);
        try (StagedBlob staged = store.stage(new ByteArrayInputStream(bytes))) {
            assertThat(staged.sha256()).isEqualTo(sha);
            store.publish(staged);
        }
        assertNoStagingFiles();
        try (InputStream in = store.open(sha)) {
            assertThat(in.readAllBytes()).isEqualTo(bytes);
        }
        assertThat(Files.readAllBytes(store.localCopy(sha))).isEqualTo(bytes);
    }

    @Test
    void listsOnlyBlobsOlderThanAsked() throws Exception {
        BlobStore store = createStore(root);
        byte[] bytes = "young".getBytes(StandardCharsets.UTF_8);
        try (StagedBlob staged = store.stage(new ByteArrayInputStream(bytes))) {
            store.publish(staged);
        }
        assertThat(store.listOlderThan(-60_000)).containsExactly(sha256(bytes));
        assertThat(store.listOlderThan(3_600_000)).isEmpty();
        store.delete(sha256(bytes));
        assertThat(store.listOlderThan(-60_000)).isEmpty();
    }
}
