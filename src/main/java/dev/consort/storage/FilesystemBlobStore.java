package dev.consort.storage;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.HashSet;
import java.util.Set;
import java.util.stream.Stream;

/**
 * Blobs as files {@code <root>/sha256/ab/abcdef...}; staging files under {@code <root>/staging} on the
 * same filesystem so publishing is an atomic rename.
 */
public class FilesystemBlobStore implements BlobStore {

    private final Path objects;
    private final BlobStaging staging;

    public FilesystemBlobStore(Path root) throws IOException {
        this.objects = root.resolve("sha256").toAbsolutePath();
        this.staging = new BlobStaging(root.resolve("staging"));
        Files.createDirectories(objects);
    }

    @Override
    public StagedBlob stage(InputStream in) throws IOException {
        return staging.stage(in);
    }

    @Override
    public void publish(StagedBlob staged) throws IOException {
        Path target = pathOf(staged.sha256());
        if (Files.exists(target)) {
            Files.deleteIfExists(staged.file());
            return;
        }
        Files.createDirectories(target.getParent());
        try {
            Files.move(staged.file(), target, StandardCopyOption.ATOMIC_MOVE);
        } catch (FileAlreadyExistsException e) {
            Files.deleteIfExists(staged.file());
        } catch (AtomicMoveNotSupportedException e) {
            throw new IOException("blob staging and object directories must be on one filesystem", e);
        }
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
