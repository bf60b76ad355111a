package dev.consort.storage;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * A local directory where incoming bytes are written while hashed, before a store publishes them: every
 * store stages the same way, whether publishing is a rename (filesystem) or an upload (S3). Each
 * process stages in a {@link ProcessDirectory} of its own, so the partial files of a killed process are
 * removed as soon as another process starts.
 */
final class BlobStaging {

    private final Path root;
    private final Path dir;

    BlobStaging(Path root) throws IOException {
        this.root = root.toAbsolutePath();
        this.dir = ProcessDirectory.of(this.root);
    }

    Path dir() {
        return dir;
    }

    StagedBlob stage(InputStream in) throws IOException {
        Path tmp = Files.createTempFile(dir, "upload-", ".part");
        try {
            MessageDigest digest = sha256Digest();
            long size;
            try (OutputStream out = new DigestOutputStream(Files.newOutputStream(tmp), digest)) {
                size = in.transferTo(out);
            }
            return new StagedBlob(tmp, HexFormat.of().formatHex(digest.digest()), size);
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(tmp);
            throw e;
        }
    }

    /**
     * Removes what crashed uploads left: the staging directories of dead processes, and other hosts' or
     * older versions' staging files older than the given age.
     */
    int purgeOlderThan(long olderThanMillis) throws IOException {
        return ProcessDirectory.reclaim(root, olderThanMillis);
    }

    static MessageDigest sha256Digest() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JVM lacks SHA-256", e);
        }
    }
}
