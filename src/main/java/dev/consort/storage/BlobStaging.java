package dev.consort.storage;

import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
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
    private final DiskSync sync;

    BlobStaging(Path root, DiskSync sync) throws IOException {
        this.root = root.toAbsolutePath();
        this.sync = sync;
        this.dir = ProcessDirectory.of(this.root);
    }

    Path dir() {
        return dir;
    }

    /**
     * Streams {@code in} to a new staging file. A failure to write (disk full, directory gone) is a
     * {@link StorageUnavailableException}; a failure to read {@code in} stays the caller's IOException.
     */
    StagedBlob stage(InputStream in) throws IOException {
        Path tmp;
        try {
            tmp = Files.createTempFile(dir, "upload-", ".part");
        } catch (IOException e) {
            throw new StorageUnavailableException("cannot create a staging file", e);
        }
        try {
            MessageDigest digest = sha256Digest();
            long size;
            try (FileChannel channel = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
                OutputStream out = new DigestOutputStream(new StorageOutputStream(Channels.newOutputStream(channel)), digest);
                size = in.transferTo(out);
                out.flush();
                // On disk before any row names it: a power cut after the commit must not leave a short blob.
                force(channel);
            }
            return new StagedBlob(tmp, HexFormat.of().formatHex(digest.digest()), size);
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(tmp);
            throw e;
        }
    }

    private void force(FileChannel channel) {
        try {
            sync.force(channel);
        } catch (IOException e) {
            throw new StorageUnavailableException("cannot flush a staging file to disk", e);
        }
    }

    /** Tells write failures apart from read failures of the stream being copied. */
    private static final class StorageOutputStream extends FilterOutputStream {

        StorageOutputStream(OutputStream out) {
            super(out);
        }

        @Override
        public void write(byte[] bytes, int offset, int length) {
            try {
                out.write(bytes, offset, length);
            } catch (IOException e) {
                throw new StorageUnavailableException("cannot write a staging file", e);
            }
        }

        @Override
        public void write(int b) {
            try {
                out.write(b);
            } catch (IOException e) {
                throw new StorageUnavailableException("cannot write a staging file", e);
            }
        }

        @Override
        public void close() {
            try {
                out.close();
            } catch (IOException e) {
                throw new StorageUnavailableException("cannot write a staging file", e);
            }
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
