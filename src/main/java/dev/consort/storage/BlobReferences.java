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
 * Which rows use which blobs. Every owner (a checkpoint's weights, a dataset's tokens, a job's
 * training state) attaches its blobs in the same transaction that stores the owner, and detaches
 * them when the owner goes; a blob left with no reference is deleted once that transaction commits.
 *
 * <p>Attaching locks the blob's row before the file is published and collecting locks it before the
 * file is deleted, so an upload of the same bytes racing a delete never ends with a row whose file
 * is gone.
 */
@Component
public class BlobReferences {

    private static final Logger log = LoggerFactory.getLogger(BlobReferences.class);

    private final JdbcTemplate jdbc;
    private final BlobStore store;
    /** Collection runs in a transaction of its own, wherever it is called from (see collectIfUnreferenced). */
    private final TransactionTemplate ownTransaction;

    public BlobReferences(JdbcTemplate jdbc, BlobStore store, PlatformTransactionManager transactions) {
        this.jdbc = jdbc;
        this.store = store;
        this.ownTransaction = new TransactionTemplate(transactions);
        this.ownTransaction.setPropagationBehavior(TransactionDefinition.PROPAGATION_REQUIRES_NEW);
    }

    /** Publishes {@code staged} and records that {@code ownerKind/ownerId} uses it in {@code role}. */
    @Transactional(propagation = Propagation.MANDATORY)
    public void attach(StagedBlob staged, String ownerKind, UUID ownerId, String role) {
        jdbc.update("""
                insert into blob (sha256, size_bytes) values (?, ?)
                on conflict (sha256) do update set size_bytes = excluded.size_bytes""",
                staged.sha256(), staged.size());
        try {
            store.publish(staged);
        } catch (IOException e) {
            // The transaction rolls back: no row names a blob that is not stored.
            throw new StorageUnavailableException("could not store blob " + staged.sha256(), e);
        }
        jdbc.update("insert into blob_ref (sha256, owner_kind, owner_id, role) values (?, ?, ?, ?)",
                staged.sha256(), ownerKind, ownerId, role);
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
     * Deletes a blob (row and bytes) if nothing references it. The row lock, the reference count and the
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
            Integer refs = jdbc.queryForObject("select count(*) from blob_ref where sha256 = ?", Integer.class, sha256);
            if (refs != null && refs > 0) {
                return false;
            }
            jdbc.update("delete from blob where sha256 = ?", sha256);
            try {
                store.delete(sha256);
            } catch (IOException e) {
                throw new UncheckedIOException("could not delete blob " + sha256, e);
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
