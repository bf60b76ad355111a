package dev.consort.worker;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.Optional;

import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;
import org.springframework.transaction.support.TransactionTemplate;

import dev.consort.storage.BlobReferences;
import dev.consort.storage.BlobStore;
import dev.consort.storage.PublishedBlob;
import dev.consort.storage.StagedBlob;

/**
 * The resumable state of a running job (for training: weights, optimiser moments, step, RNG), one blob
 * per job, replaced at each save. Saving is fenced by the lease like every other job write, so a
 * worker that lost its job cannot overwrite the state of the worker that took it over. The state is
 * dropped (and its blob collected) once the job ends.
 */
@Component
public class JobStateStore {

    static final String OWNER_KIND = "job";
    static final String ROLE = "state";

    private final JdbcTemplate jdbc;
    private final TransactionTemplate tx;
    private final BlobStore blobs;
    private final BlobReferences references;

    public JobStateStore(JdbcTemplate jdbc, TransactionTemplate tx, BlobStore blobs, BlobReferences references) {
        this.jdbc = jdbc;
        this.tx = tx;
        this.blobs = blobs;
        this.references = references;
    }

    /**
     * Stores {@code state} as the job's state if {@code lease} still holds the job; false if it does not.
     * The bytes are published first, outside any transaction: the job row is locked only for the short
     * check of the lease and swap of the reference, so a long upload never holds up the job's heartbeats.
     */
    boolean save(Lease lease, InputStream state) throws IOException {
        try (StagedBlob staged = blobs.stage(state); PublishedBlob published = references.publish(staged)) {
            Boolean saved = tx.execute(t -> {
                List<Integer> held = jdbc.queryForList(
                        "select 1 from job where id = ? and lease_owner = ? for update", Integer.class,
                        lease.jobId(), lease.owner());
                if (held.isEmpty()) {
                    return false;
                }
                references.detachAll(OWNER_KIND, lease.jobId());
                references.attach(published, OWNER_KIND, lease.jobId(), ROLE);
                return true;
            });
            return Boolean.TRUE.equals(saved);
        }
    }

    /** The job's last saved state, if any. */
    Optional<InputStream> load(java.util.UUID jobId) {
        List<String> sha = jdbc.queryForList("select sha256 from blob_ref where owner_kind = ? and owner_id = ? and role = ?",
                String.class, OWNER_KIND, jobId, ROLE);
        if (sha.isEmpty()) {
            return Optional.empty();
        }
        try {
            return Optional.of(blobs.open(sha.get(0)));
        } catch (IOException e) {
            throw new UncheckedIOException("saved state of job " + jobId + " is unreadable", e);
        }
    }

    /**
     * Drops the states of jobs that ended by any path: cancelled while queued after a requeue, failed
     * by the reaper, or finished by a worker that died (or lost the database) before dropping it.
     * Ended jobs never run again, so nothing can race this.
     *
     * @return how many states were dropped
     */
    int dropEnded() {
        Integer dropped = tx.execute(t -> {
            List<java.util.UUID> owners = jdbc.queryForList("""
                    select r.owner_id from blob_ref r join job j on j.id = r.owner_id
                    where r.owner_kind = ? and j.status in ('succeeded', 'failed', 'cancelled')""",
                    java.util.UUID.class, OWNER_KIND);
            owners.forEach(id -> references.detachAll(OWNER_KIND, id));
            return owners.size();
        });
        return dropped == null ? 0 : dropped;
    }

    /** Forgets the job's state; its blob is deleted once nothing else references it. */
    void drop(java.util.UUID jobId) {
        tx.executeWithoutResult(t -> references.detachAll(OWNER_KIND, jobId));
    }
}
