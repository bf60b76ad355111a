package dev.consort.storage;

import java.util.UUID;

/**
 * A blob stored under its sha256 and pinned against collection until an owner attaches it
 * ({@link BlobReferences#attach}). Closing it drops the pin if no owner took it, and then the blob, if
 * nothing else uses it, so a publication whose owner's transaction failed leaves nothing behind.
 */
public final class PublishedBlob implements AutoCloseable {

    private final BlobReferences references;
    private final UUID pin;
    private final String sha256;
    private final long size;
    /** Set once the owner's transaction that attached it has committed: then closing has nothing to undo. */
    private volatile boolean attached;

    PublishedBlob(BlobReferences references, UUID pin, String sha256, long size) {
        this.references = references;
        this.pin = pin;
        this.sha256 = sha256;
        this.size = size;
    }

    public String sha256() {
        return sha256;
    }

    public long size() {
        return size;
    }

    UUID pin() {
        return pin;
    }

    void attached() {
        attached = true;
    }

    /** Drops the pin unless an owner's committed transaction took it over; call it outside any transaction. */
    @Override
    public void close() {
        if (!attached) {
            references.unpin(this);
        }
    }
}
