package dev.consort.storage;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.Set;

/**
 * Content-addressed storage of large immutable bytes (weights, token files, training state).
 * Bytes are first staged (streamed to a temporary file while hashed), validated by the caller,
 * and only then published under their sha256. Metadata about who uses a blob lives in
 * PostgreSQL ({@link BlobReferences}), not here.
 */
public interface BlobStore {

    /** Streams {@code in} to a private temporary file, hashing it on the way; nothing is published. */
    StagedBlob stage(InputStream in) throws IOException;

    /** Publishes a staged blob under its sha256, atomically; a blob already present is kept as is. */
    void publish(StagedBlob staged) throws IOException;

    InputStream open(String sha256) throws IOException;

    /**
     * A local file holding the blob, for readers that memory-map (the engine). The filesystem store
     * returns the blob itself; a remote store would return a cached copy. Never write to it.
     */
    Path localCopy(String sha256) throws IOException;

    boolean exists(String sha256);

    void delete(String sha256) throws IOException;

    /** Every published sha256 whose bytes are older than the given age in milliseconds (orphan sweep). */
    Set<String> listOlderThan(long olderThanMillis) throws IOException;

    /** Removes staging files older than the given age in milliseconds (left by crashed uploads). */
    int purgeStaleStaging(long olderThanMillis) throws IOException;
}
