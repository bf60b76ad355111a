package dev.consort.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.nio.file.Files;
import java.nio.file.attribute.FileTime;
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

    /** Stages, publishes and attaches {@code bytes} to test owner {@code owner}; returns their sha256. */
    private String attached(byte[] bytes, UUID owner) throws Exception {
        try (StagedBlob staged = store.stage(new ByteArrayInputStream(bytes));
             PublishedBlob published = references.publish(staged)) {
            tx.executeWithoutResult(t -> references.attach(published, "test", owner, "data"));
            return staged.sha256();
        }
    }

    private int rows(String sha) {
        return jdbc.queryForObject("select count(*) from blob where sha256 = ?", Integer.class, sha);
    }

    @Test
    void aBlobLivesWhileAnyOwnerReferencesIt() throws Exception {
        byte[] bytes = ("shared " + UUID.randomUUID()).getBytes();
        UUID first = UUID.randomUUID();
        UUID second = UUID.randomUUID();
        String sha = attached(bytes, first);
        try (StagedBlob again = store.stage(new ByteArrayInputStream(bytes));
             PublishedBlob published = references.publish(again)) {
            tx.executeWithoutResult(t -> references.attach(published, "test", second, "data"));
        }
        assertThat(references.size(sha)).isEqualTo(bytes.length);
        assertThat(jdbc.queryForObject("select count(*) from blob_pin where sha256 = ?", Integer.class, sha)).isZero();

        tx.executeWithoutResult(t -> references.detachAll("test", first));
        assertThat(store.exists(sha)).isTrue();

        tx.executeWithoutResult(t -> references.detachAll("test", second));
        assertThat(store.exists(sha)).isFalse();
        assertThat(rows(sha)).isZero();
    }

    @Test
    void aRolledBackAttachLeavesNoRowAndNoFile() throws Exception {
        byte[] bytes = ("rolled back " + UUID.randomUUID()).getBytes();
        String sha;
        try (StagedBlob staged = store.stage(new ByteArrayInputStream(bytes));
             PublishedBlob published = references.publish(staged)) {
            sha = staged.sha256();
            tx.executeWithoutResult(t -> {
                references.attach(published, "test", UUID.randomUUID(), "data");
                t.setRollbackOnly();
            });
            assertThat(store.exists(sha)).as("published, still pinned").isTrue();
        }
        assertThat(rows(sha)).isZero();
        assertThat(store.exists(sha)).isFalse();
    }

    /** A transfer inside a transaction would hold its locks (a job row, say) for as long as the upload takes. */
    @Test
    void publishingInsideATransactionIsRefused() throws Exception {
        byte[] bytes = ("in a transaction " + UUID.randomUUID()).getBytes();
        try (StagedBlob staged = store.stage(new ByteArrayInputStream(bytes))) {
            assertThatThrownBy(() -> tx.executeWithoutResult(t -> references.publish(staged)))
                    .isInstanceOf(IllegalStateException.class).hasMessageContaining("inside a database transaction");
            assertThat(rows(staged.sha256())).isZero();
            assertThat(store.exists(staged.sha256())).isFalse();
        }
    }

    /**
     * An upload of bytes that an owner is deleting at the same moment: published (and pinned) before the
     * delete's collection runs, attached after it. The pin keeps the blob.
     */
    @Test
    void aPinnedBlobSurvivesTheDeletionOfItsLastOwner() throws Exception {
        byte[] bytes = ("pinned " + UUID.randomUUID()).getBytes();
        UUID leaving = UUID.randomUUID();
        UUID arriving = UUID.randomUUID();
        String sha = attached(bytes, leaving);
        try (StagedBlob again = store.stage(new ByteArrayInputStream(bytes));
             PublishedBlob published = references.publish(again)) {
            tx.executeWithoutResult(t -> references.detachAll("test", leaving));
            assertThat(store.exists(sha)).isTrue();
            tx.executeWithoutResult(t -> references.attach(published, "test", arriving, "data"));
        }
        assertThat(store.exists(sha)).isTrue();
        assertThat(rows(sha)).isOne();
        tx.executeWithoutResult(t -> references.detachAll("test", arriving));
        assertThat(store.exists(sha)).isFalse();
    }

    /** The sweep keeps a pinned blob with no owner yet, and collects it once the pin is older than its grace. */
    @Test
    void theSweepSkipsPinnedBlobsUntilTheirPinIsStale() throws Exception {
        byte[] bytes = ("pinned, never attached " + UUID.randomUUID()).getBytes();
        try (StagedBlob staged = store.stage(new ByteArrayInputStream(bytes))) {
            String sha = staged.sha256();
            references.publish(staged); // as by a process that dies before attaching it
            Files.setLastModifiedTime(((FilesystemBlobStore) store).pathOf(sha), FileTime.fromMillis(
                    System.currentTimeMillis() - BlobSweeper.GRACE.toMillis() - 60_000));
            jdbc.update("update blob set created_at = now() - interval '2 hours' where sha256 = ?", sha);

            sweeper.sweep();
            assertThat(rows(sha)).isOne();
            assertThat(store.exists(sha)).isTrue();

            jdbc.update("update blob_pin set created_at = now() - interval '2 hours' where sha256 = ?", sha);
            sweeper.sweep();
            assertThat(rows(sha)).isZero();
            assertThat(store.exists(sha)).isFalse();
        }
    }
}
