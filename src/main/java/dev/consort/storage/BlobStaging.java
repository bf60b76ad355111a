package dev.consort.storage;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * A local directory where incoming bytes are written while hashed, before a store publishes them: every
 * store stages the same way, whether publishing is a rename (filesystem) or an upload (S3).
 */
final class BlobStaging {

    private final Path dir;

    BlobStaging(Path dir) throws IOException {
        this.dir = dir.toAbsolutePath();
        Files.createDirectories(this.dir);
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

    /** Removes staging files older than the given age (left by crashed uploads). */
    int purgeOlderThan(long olderThanMillis) throws IOException {
        long cutoff = System.currentTimeMillis() - olderThanMillis;
        int purged = 0;
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir)) {
            for (Path file : files) {
                try {
                    if (Files.getLastModifiedTime(file).toMillis() < cutoff && Files.deleteIfExists(file)) {
                        purged++;
                    }
                } catch (NoSuchFileException ignored) {
                    // published or purged concurrently
                }
            }
        }
        return purged;
    }

    static MessageDigest sha256Digest() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JVM lacks SHA-256", e);
        }
    }
}
