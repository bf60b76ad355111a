package dev.consort.worker;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;

import dev.consort.storage.BlobReferences;
import dev.consort.storage.FilesystemBlobStore;
import dev.consort.storage.StagedBlob;
import dev.consort.support.ApiTest;

/** Saving a job's state, whose upload may take minutes on S3, must never hold up the job's heartbeats. */
class JobStateStoreTest extends ApiTest {

    @Autowired
    TransactionTemplate tx;
    @Autowired
    PlatformTransactionManager transactions;
    @Autowired
    JobQueue queue;

    @TempDir
    Path blobs;

    /** A store whose publishing waits for the test, as a long upload would. */
    static final class SlowStore extends FilesystemBlobStore {

        final CountDownLatch publishing = new CountDownLatch(1);
        final CountDownLatch mayFinish = new CountDownLatch(1);

        SlowStore(Path root) throws IOException {
            super(root);
        }

        @Override
        public void publish(StagedBlob staged) throws IOException {
            publishing.countDown();
            try {
                mayFinish.await(60, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            super.publish(staged);
        }
    }

    @Test
    void aHeartbeatGoesThroughWhileTheStateIsBeingPublished() throws Exception {
        SlowStore store = new SlowStore(blobs);
        JobStateStore states = new JobStateStore(jdbc, tx, store, new BlobReferences(jdbc, store, transactions));
        Lease lease = new Lease(UUID.randomUUID(), "slow-publisher");
        jdbc.update("""
                insert into job (id, type, status, spec, max_attempts, lease_owner, lease_expires_at)
                values (?, 'test.count', 'running', '{}'::jsonb, 3, ?, now() + interval '1 minute')""",
                lease.jobId(), lease.owner());

        CompletableFuture<Boolean> saving = CompletableFuture.supplyAsync(() -> {
            try {
                return states.save(lease, new ByteArrayInputStream(("state of " + lease.jobId()).getBytes()));
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        try {
            assertThat(store.publishing.await(30, TimeUnit.SECONDS)).as("publishing started").isTrue();
            CompletableFuture<JobQueue.LeaseState> heartbeat =
                    CompletableFuture.supplyAsync(() -> queue.heartbeat(lease, Duration.ofMinutes(1)));
            // Before: save held the job row FOR UPDATE throughout the upload, and this waited for all of it.
            assertThat(heartbeat.get(10, TimeUnit.SECONDS)).isEqualTo(JobQueue.LeaseState.HELD);
        } finally {
            store.mayFinish.countDown();
        }
        assertThat(saving.get(30, TimeUnit.SECONDS)).isTrue();
        assertThat(states.load(lease.jobId())).isPresent();
        jdbc.update("update job set status = 'succeeded' where id = ?", lease.jobId());
        states.drop(lease.jobId());
    }
}
