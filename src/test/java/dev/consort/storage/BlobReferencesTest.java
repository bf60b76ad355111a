package dev.consort.storage;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.util.UUID;

import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.transaction.support.TransactionTemplate;

import dev.consort.support.ApiTest;

class BlobReferencesTest extends ApiTest {

    @Autowired
    BlobStore store;
    @Autowired
    BlobReferences references;
    @Autowired
    TransactionTemplate tx;
    @Autowired
    BlobSweeper sweeper;

    @Test
    void aBlobLivesWhileAnyOwnerReferencesIt() throws Exception {
        byte[] bytes = ("shared " + UUID.randomUUID()).getBytes();
        UUID first = UUID.randomUUID();
        UUID second = UUID.randomUUID();
        String sha;
        try (StagedBlob staged = store.stage(new ByteArrayInputStream(bytes))) {
            sha = staged.sha256();
            tx.executeWithoutResult(t -> references.attach(staged, "test", first, "data"));
        }
        try (StagedBlob again = store.stage(new ByteArrayInputStream(bytes))) {
            tx.executeWithoutResult(t -> references.attach(again, "test", second, "data"));
        }
        assertThat(references.size(sha)).isEqualTo(bytes.length);

        tx.executeWithoutResult(t -> references.detachAll("test", first));
        assertThat(store.exists(sha)).isTrue();

        tx.executeWithoutResult(t -> references.detachAll("test", second));
        assertThat(store.exists(sha)).isFalse();
        assertThat(jdbc.queryForObject("select count(*) from blob where sha256 = ?", Integer.class, sha)).isZero();
    }

    @Test
    void aRolledBackAttachLeavesNoRowAndTheSweeperRemovesTheFile() throws Exception {
        byte[] bytes = ("rolled back " + UUID.randomUUID()).getBytes();
        String sha;
        try (StagedBlob staged = store.stage(new ByteArrayInputStream(bytes))) {
            sha = staged.sha256();
            tx.executeWithoutResult(t -> {
                references.attach(staged, "test", UUID.randomUUID(), "data");
                t.setRollbackOnly();
            });
        }
        assertThat(jdbc.queryForObject("select count(*) from blob where sha256 = ?", Integer.class, sha)).isZero();
        // The published file has no row; the sweep removes such files once they are older than its grace period.
        assertThat(store.exists(sha)).isTrue();
        java.nio.file.Path file = ((FilesystemBlobStore) store).pathOf(sha);
        java.nio.file.Files.setLastModifiedTime(file, java.nio.file.attribute.FileTime.fromMillis(
                System.currentTimeMillis() - BlobSweeper.GRACE.toMillis() - 60_000));
        sweeper.sweep();
        assertThat(store.exists(sha)).isFalse();
    }
}
