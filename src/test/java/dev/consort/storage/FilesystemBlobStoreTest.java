package dev.consort.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.security.MessageDigest;
import java.util.HexFormat;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FilesystemBlobStoreTest {

    @TempDir
    Path root;

    @Test
    void stagesHashesAndPublishesUnderTheSha256() throws Exception {
        FilesystemBlobStore store = new FilesystemBlobStore(root);
        byte[] bytes = "hello consort".getBytes(StandardCharsets.UTF_8);
        String expected = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));

        try (StagedBlob staged = store.stage(new ByteArrayInputStream(bytes))) {
            assertThat(staged.sha256()).isEqualTo(expected);
            assertThat(staged.size()).isEqualTo(bytes.length);
            assertThat(store.exists(expected)).isFalse();
            store.publish(staged);
            assertThat(Files.exists(staged.file())).isFalse();
        }
        assertThat(store.exists(expected)).isTrue();
        assertThat(store.pathOf(expected)).isEqualTo(root.resolve("sha256").resolve(expected.substring(0, 2))
                .resolve(expected).toAbsolutePath());
        try (InputStream in = store.open(expected)) {
            assertThat(in.readAllBytes()).isEqualTo(bytes);
        }
        store.delete(expected);
        assertThat(store.exists(expected)).isFalse();
    }

    @Test
    void publishingTheSameBytesTwiceKeepsOneCopyAndNoStagingFiles() throws Exception {
        FilesystemBlobStore store = new FilesystemBlobStore(root);
        byte[] bytes = new byte[100_000];
        for (StagedBlob staged : new StagedBlob[] {store.stage(new ByteArrayInputStream(bytes)),
                store.stage(new ByteArrayInputStream(bytes))}) {
            try (staged) {
                store.publish(staged);
            }
        }
        try (var files = Files.list(root.resolve("staging"))) {
            assertThat(files).isEmpty();
        }
        assertThat(store.listOlderThan(-1_000)).hasSize(1);
    }

    @Test
    void aRejectedUploadLeavesNothing() throws Exception {
        FilesystemBlobStore store = new FilesystemBlobStore(root);
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
        try (var files = Files.list(root.resolve("staging"))) {
            assertThat(files).isEmpty();
        }
        assertThat(store.listOlderThan(-1_000)).isEmpty();
    }

    @Test
    void purgesOnlyStaleStagingFiles() throws Exception {
        FilesystemBlobStore store = new FilesystemBlobStore(root);
        Path stale = Files.writeString(root.resolve("staging").resolve("upload-old.part"), "x");
        Files.setLastModifiedTime(stale, FileTime.fromMillis(System.currentTimeMillis() - 7_200_000));
        Path fresh = Files.writeString(root.resolve("staging").resolve("upload-new.part"), "y");
        assertThat(store.purgeStaleStaging(3_600_000)).isEqualTo(1);
        assertThat(Files.exists(stale)).isFalse();
        assertThat(Files.exists(fresh)).isTrue();
    }

    @Test
    void rejectsPathsThatAreNotSha256() throws Exception {
        FilesystemBlobStore store = new FilesystemBlobStore(root);
        assertThatThrownBy(() -> store.open("../../etc/passwd")).isInstanceOf(IllegalArgumentException.class);
    }
}
