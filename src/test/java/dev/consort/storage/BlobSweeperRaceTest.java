package dev.consort.storage;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;

import dev.consort.support.ApiTest;

/**
 * The sweep deletes blob files that have no row (a crash between publishing and committing). An upload
 * of the same bytes may be pinning that very blob as the sweep decides: the two are driven step by step
 * here, the sweep held just before its delete, so the upload runs in the gap.
 */
class BlobSweeperRaceTest extends ApiTest {

    @Autowired
    PlatformTransactionManager transactions;
    @Autowired
    TransactionTemplate tx;
    @Autowired
    ScratchDirectory scratch;

    @TempDir
    Path root;

    /** Holds the sweep's delete of one blob until the test lets it go. */
    static final class PausingStore extends FilesystemBlobStore {

        final CountDownLatch deleting = new CountDownLatch(1);
        final CountDownLatch mayDelete = new CountDownLatch(1);
        volatile String paused;

        PausingStore(Path root) throws IOException {
            super(root);
        }

        @Override
        public void delete(String sha256) throws IOException {
            if (sha256.equals(paused)) {
                deleting.countDown();
                try {
                    mayDelete.await(60, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            super.delete(sha256);
        }
    }

    @Test
    void anUploadOfAStrayFilesBytesNeverEndsWithARowWhoseFileTheSweepDeleted() throws Exception {
        PausingStore store = new PausingStore(root);
        BlobReferences references = new BlobReferences(jdbc, store, transactions);
        BlobSweeper sweeper = new BlobSweeper(jdbc, store, references, scratch);
        byte[] bytes = ("stray " + UUID.randomUUID()).getBytes();
        String sha;
        try (StagedBlob stray = store.stage(new ByteArrayInputStream(bytes))) {
            sha = stray.sha256();
            store.publish(stray); // a file with no row, as a crash before the commit leaves it
        }
        Files.setLastModifiedTime(store.pathOf(sha), FileTime.fromMillis(
                System.currentTimeMillis() - BlobSweeper.GRACE.toMillis() - 60_000));
        store.paused = sha;

        CompletableFuture<Integer> sweeping = CompletableFuture.supplyAsync(() -> sweeper.sweep(BlobSweeper.GRACE));
        assertThat(store.deleting.await(30, TimeUnit.SECONDS)).as("the sweep found the stray file").isTrue();

        CompletableFuture<PublishedBlob> uploading = CompletableFuture.supplyAsync(() -> {
            try (StagedBlob staged = store.stage(new ByteArrayInputStream(bytes))) {
                return references.publish(staged);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
        // The upload either gets all the way through publishing, or waits for the sweep to finish.
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!uploading.isDone() && !waitingForALock() && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        store.mayDelete.countDown();
        sweeping.get(30, TimeUnit.SECONDS);
        UUID owner = UUID.randomUUID();
        try (PublishedBlob published = uploading.get(30, TimeUnit.SECONDS)) {
            tx.executeWithoutResult(t -> references.attach(published, "test", owner, "data"));
        }

        assertThat(jdbc.queryForObject("select count(*) from blob_ref where sha256 = ?", Integer.class, sha)).isOne();
        assertThat(store.exists(sha)).as("the attached blob's file").isTrue();
        tx.executeWithoutResult(t -> references.detachAll("test", owner));
    }

    private boolean waitingForALock() {
        return jdbc.queryForObject("select count(*) from pg_locks where not granted", Integer.class) > 0;
    }
}
