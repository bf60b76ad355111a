package dev.consort.storage;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.Set;
import java.util.stream.Stream;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Blobs as files {@code <root>/sha256/ab/abcdef...}; staging files under {@code <root>/staging} on the
 * same filesystem so publishing is an atomic rename.
 */
public class FilesystemBlobStore implements BlobStore {

    private static final Logger log = LoggerFactory.getLogger(FilesystemBlobStore.class);

    private final Path objects;
    private final BlobStaging staging;
    private final DiskSync sync;

    public FilesystemBlobStore(Path root) throws IOException {
        this(root, DiskSync.SYSTEM);
    }

    FilesystemBlobStore(Path root, DiskSync sync) throws IOException {
        this.objects = root.resolve("sha256").toAbsolutePath();
        this.sync = sync;
        this.staging = new BlobStaging(root.resolve("staging"), sync);
        Files.createDirectories(objects);
    }

    @Override
    public StagedBlob stage(InputStream in) throws IOException {
        return staging.stage(in);
    }

    /**
     * Renames the staged file into place and flushes the directory, so the blob survives a power cut once
     * the caller commits a row naming it. A file already there is trusted only if it hashes to its name: a
     * corrupt one (a torn write, a disk error) is replaced by the staged copy, atomically, so readers see
     * either the old bytes or the good ones.
     */
    @Override
    public void publish(StagedBlob staged) throws IOException {
        Path target = pathOf(staged.sha256());
        if (Files.exists(target)) {
            if (hashOf(target).equals(staged.sha256())) {
                Files.deleteIfExists(staged.file());
                return;
            }
            log.warn("Blob {} on disk does not match its sha256; replacing it with the bytes just staged", target);
        }
        Path dir = target.getParent();
        if (!Files.isDirectory(dir)) {
            Files.createDirectories(dir);
            sync.forceDirectory(objects);
        }
        try {
            Files.move(staged.file(), target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            throw new IOException("blob staging and object directories must be on one filesystem", e);
        }
        sync.forceDirectory(dir);
    }

    private static String hashOf(Path file) throws IOException {
        MessageDigest digest = BlobStaging.sha256Digest();
        try (InputStream in = new DigestInputStream(Files.newInputStream(file), digest)) {
            in.transferTo(OutputStream.nullOutputStream());
        } catch (NoSuchFileException collected) {
            return "";
        }
        return HexFormat.of().formatHex(digest.digest());
    }

    @Override
    public InputStream open(String sha256) throws IOException {
        return Files.newInputStream(pathOf(sha256));
    }

    @Override
    public Path localCopy(String sha256) throws IOException {
        Path path = pathOf(sha256);
        if (!Files.exists(path)) {
            throw new NoSuchFileException(path.toString(), null, "blob " + sha256 + " is missing");
        }
        return path;
    }

    @Override
    public boolean exists(String sha256) {
        return Files.exists(pathOf(sha256));
    }

    @Override
    public void delete(String sha256) throws IOException {
        Path path = pathOf(sha256);
        Files.deleteIfExists(path);
    }

    @Override
    public Set<String> listOlderThan(long olderThanMillis) throws IOException {
        long cutoff = System.currentTimeMillis() - olderThanMillis;
        Set<String> found = new HashSet<>();
        try (Stream<Path> files = Files.walk(objects, 2)) {
            files.filter(Files::isRegularFile)
                    .filter(p -> modifiedBefore(p, cutoff))
                    .map(p -> p.getFileName().toString())
                    .filter(name -> SHA256.matcher(name).matches())
                    .forEach(found::add);
        }
        return found;
    }

    @Override
    public int purgeStaleStaging(long olderThanMillis) throws IOException {
        return staging.purgeOlderThan(olderThanMillis);
    }

    private static boolean modifiedBefore(Path file, long cutoffMillis) {
        try {
            return Files.getLastModifiedTime(file).toMillis() < cutoffMillis;
        } catch (IOException e) {
            return false;
        }
    }

    /** The file of a blob; only for stores that are files (the engine memory-maps weights). */
    public Path pathOf(String sha256) {
        BlobStore.requireSha256(sha256);
        return objects.resolve(sha256.substring(0, 2)).resolve(sha256);
    }
}
