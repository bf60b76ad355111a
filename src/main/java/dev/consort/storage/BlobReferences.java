package dev.consort.storage;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.UUID;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.TransactionDefinition;
import org.springframework.transaction.annotation.Propagation;
import org.springframework.transaction.annotation.Transactional;
import org.springframework.transaction.support.TransactionSynchronization;
import org.springframework.transaction.support.TransactionSynchronizationManager;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Which rows use which blobs. Storing a blob takes two steps: {@link #publish} stores the staged bytes
 * outside any transaction (for S3 a transfer of possibly many GB, which must hold no row lock), pinned
 * against collection; then the owner (a checkpoint's weights, a dataset's tokens, a job's training state)
 * {@link #attach attaches} it in the same short transaction that stores the owner. Owners detach their
 * blobs when they go; a blob left with no reference and no pin is deleted once that transaction commits.
 *
 * <p>Pinning upserts the blob's row before the file is published, and collecting locks that row and
 * checks its references and pins before the file is deleted, so an upload of the same bytes racing a
 * delete never ends with a row whose file is gone: either the collector ran first (and the upload then
 * publishes the file again) or it sees the pin and keeps the blob.
 */
@Component
public class BlobReferences {

    private static final Logger log = LoggerFactory.getLogger(BlobReferences.class);
    /** The first key of the advisory locks taken by {@link #lockStrayDeletion}: "blob" in ASCII. */
    private static final int STRAY_DELETION_LOCKS = 0x626c6f62;

    private final JdbcTemplate jdbc;
    private final BlobStore store;
    /** Pinning and collection run in transactions of their own, wherever they are called from. */
    private final TransactionTemplate ownTransaction;

    public BlobReferences(JdbcTemplate jdbc, BlobStore store, PlatformTransactionManager transactions) {
        this.jdbc = jdbc;
        this.store = store;
        this.ownTransaction = new TransactionTemplate(transactions);
        this.ownTransaction.setPropagationBehavior(TransactionDefinition.PROPAGATION_REQUIRES_NEW);
    }

    /**
     * Stores {@code staged} under its sha256, pinned until an owner {@link #attach attaches} it or the
     * returned blob is closed. Call it after validating the bytes (a rejected upload must leave nothing) and
     * never inside a transaction: a long upload would hold the caller's locks (a job row, say) throughout.
     */
    public PublishedBlob publish(StagedBlob staged) {
        requireNoTransaction("publishing blob " + staged.sha256());
        UUID pin = UUID.randomUUID();
        ownTransaction.executeWithoutResult(status -> {
            lockStrayDeletion(staged.sha256());
            jdbc.update("""
                    insert into blob (sha256, size_bytes) values (?, ?)
                    on conflict (sha256) do update set size_bytes = excluded.size_bytes""",
                    staged.sha256(), staged.size());
            jdbc.update("insert into blob_pin (id, sha256) values (?, ?)", pin, staged.sha256());
        });
        PublishedBlob published = new PublishedBlob(this, pin, staged.sha256(), staged.size());
        try {
            store.publish(staged);
        } catch (IOException | RuntimeException e) {
            try {
                published.close();
            } catch (RuntimeException unpinFailed) {
                e.addSuppressed(unpinFailed);
            }
            if (e instanceof IOException io) {
                throw new StorageUnavailableException("could not store blob " + staged.sha256(), io);
            }
            throw (RuntimeException) e;
        }
        return published;
    }

    /**
     * Records that {@code ownerKind/ownerId} uses the published blob in {@code role}, in the owner's
     * transaction, and takes over the blob's pin: from its commit on, the reference keeps the blob.
     */
    @Transactional(propagation = Propagation.MANDATORY)
    public void attach(PublishedBlob blob, String ownerKind, UUID ownerId, String role) {
        // The pin is gone only if a sweep dropped it as stale, and the blob may have been collected since.
        if (jdbc.update("delete from blob_pin where id = ?", blob.pin()) == 0) {
            throw new IllegalStateException("blob " + blob.sha256() + " lost its pin before it was attached "
                    + "(published longer ago than the blob sweep's grace period); store it again");
        }
        jdbc.update("insert into blob_ref (sha256, owner_kind, owner_id, role) values (?, ?, ?, ?)",
                blob.sha256(), ownerKind, ownerId, role);
        TransactionSynchronizationManager.registerSynchronization(new TransactionSynchronization() {
            @Override
            public void afterCommit() {
                blob.attached();
            }
        });
    }

    /** Drops the pin of a publication no owner took, and then the blob if nothing else uses it. */
    void unpin(PublishedBlob blob) {
        requireNoTransaction("unpinning blob " + blob.sha256());
        Integer dropped = ownTransaction.execute(status ->
                jdbc.update("delete from blob_pin where id = ?", blob.pin()));
        if (dropped != null && dropped > 0) {
            collectIfUnreferenced(blob.sha256());
        }
    }

    /**
     * Deletes a blob file that has no row (a crash between publishing and committing left it), unless an
     * upload of the same bytes pins it first. Without the lock, an upload could pin the blob between this
     * check and the delete, find the file in place, skip publishing it, and attach a file that is then gone.
     */
    boolean deleteIfStray(String sha256) {
        return Boolean.TRUE.equals(ownTransaction.execute(status -> {
            lockStrayDeletion(sha256);
            if (!jdbc.queryForList("select 1 from blob where sha256 = ?", sha256).isEmpty()) {
                return false;
            }
            try {
                store.delete(sha256);
            } catch (IOException e) {
                throw new UncheckedIOException("could not delete stray blob file " + sha256, e);
            }
            log.debug("Deleted stray blob file {}", sha256);
            return true;
        }));
    }

    /**
     * Serializes pinning a blob with deleting its stray file, until the calling transaction ends. A stray file
     * has no row to lock, so the lock is an advisory one keyed by the sha256's first 32 bits (in a key space
     * of its own); two blobs sharing them merely wait for each other.
     */
    private void lockStrayDeletion(String sha256) {
        jdbc.query("select pg_advisory_xact_lock(?, ?)", rs -> null, STRAY_DELETION_LOCKS,
                (int) Long.parseLong(BlobStore.requireSha256(sha256).substring(0, 8), 16));
    }

    private static void requireNoTransaction(String what) {
        if (TransactionSynchronizationManager.isActualTransactionActive()) {
            throw new IllegalStateException(what + " inside a database transaction; publish blobs before the "
                    + "owner's transaction, so that no row stays locked while the bytes are transferred");
        }
    }

    /** Adds a reference to a blob that is already stored (a new owner of existing bytes). */
    @Transactional(propagation = Propagation.MANDATORY)
    public void attachExisting(String sha256, String ownerKind, UUID ownerId, String role) {
        jdbc.update("insert into blob_ref (sha256, owner_kind, owner_id, role) values (?, ?, ?, ?)",
                sha256, ownerKind, ownerId, role);
    }

    /** Drops the owner's references; blobs nobody else uses are deleted after commit. */
    @Transactional(propagation = Propagation.MANDATORY)
    public void detachAll(String ownerKind, UUID ownerId) {
        List<String> released = jdbc.queryForList(
                "delete from blob_ref where owner_kind = ? and owner_id = ? returning sha256",
                String.class, ownerKind, ownerId);
        if (!released.isEmpty()) {
            TransactionSynchronizationManager.registerSynchronization(new TransactionSynchronization() {
                @Override
                public void afterCommit() {
                    released.forEach(BlobReferences.this::collectIfUnreferenced);
                }
            });
        }
    }

    /**
     * Deletes a blob (row and bytes) if nothing references or pins it. The row lock, the reference count and the
     * delete must be one transaction, or an upload of the same bytes could attach between the count and the
     * delete and lose its file. An annotation would not do: the call after a delete's commit comes from this
     * class itself, past any proxy, on a connection that is back in autocommit mode.
     */
    public boolean collectIfUnreferenced(String sha256) {
        return Boolean.TRUE.equals(ownTransaction.execute(status -> {
            List<String> locked = jdbc.queryForList(
                    "select sha256 from blob where sha256 = ? for update", String.class, sha256);
            if (locked.isEmpty()) {
                return false;
            }
            // A pin is an upload of the same bytes on its way to attaching them: it keeps the blob too.
            Integer users = jdbc.queryForObject("""
                    select (select count(*) from blob_ref where sha256 = ?) + (select count(*) from blob_pin where sha256 = ?)""",
                    Integer.class, sha256, sha256);
            if (users != null && users > 0) {
                return false;
            }
            jdbc.update("delete from blob where sha256 = ?", sha256);
            try {
                store.delete(sha256);
            } catch (IOException | UncheckedIOException e) {
                // The row goes all the same: a file without a row is a stray, which the sweep deletes later
                // (under the lock an upload of the same bytes takes), while a kept row would look stored.
                log.warn("Could not delete the file of unreferenced blob {}; the sweep will: {}", sha256, e.toString());
            }
            log.debug("Deleted unreferenced blob {}", sha256);
            return true;
        }));
    }

    public long size(String sha256) {
        Long size = jdbc.queryForObject("select size_bytes from blob where sha256 = ?", Long.class, sha256);
        return size == null ? -1 : size;
    }
}
