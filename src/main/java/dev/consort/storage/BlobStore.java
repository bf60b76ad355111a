package dev.consort.storage;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Content-addressed storage of large immutable bytes (weights, token files, training state).
 * Bytes are first staged (streamed to a temporary file while hashed), validated by the caller,
 * and only then published under their sha256. Metadata about who uses a blob lives in
 * PostgreSQL ({@link BlobReferences}), not here.
 */
public interface BlobStore {

    /** What a blob id is: a lower-case hex sha256. */
    Pattern SHA256 = Pattern.compile("[0-9a-f]{64}");

    /** Refuses anything but a blob id, so no id can name a path or key outside the store. */
    static String requireSha256(String sha256) {
        if (sha256 == null || !SHA256.matcher(sha256).matches()) {
            throw new IllegalArgumentException("not a sha256: " + sha256);
        }
        return sha256;
    }

    /** Streams {@code in} to a private temporary file, hashing it on the way; nothing is published. */
    StagedBlob stage(InputStream in) throws IOException;

    /**
     * Publishes a staged blob under its sha256, atomically and durably; a blob already present is kept if it
     * checks out against its sha256 (as far as the store can tell cheaply) and replaced otherwise. Only
     * {@link BlobReferences#publish} calls this for blobs that rows will name.
     */
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
