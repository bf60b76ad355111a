package dev.consort.storage;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import org.springframework.stereotype.Component;

import dev.consort.ConsortProperties;

/**
 * Where this process writes temporary working files (token files, checkpoints before staging, training
 * state): its own {@link ProcessDirectory} under {@code <data-dir>/tmp}, so a process started after a
 * crash removes what the dead one was writing.
 */
@Component
public class ScratchDirectory {

    private final Path parent;
    private final Path path;

    public ScratchDirectory(ConsortProperties properties) throws IOException {
        this.parent = properties.dataDir().resolve("tmp").toAbsolutePath();
        this.path = ProcessDirectory.of(parent);
    }

    public Path path() {
        return path;
    }

    /** A fresh directory in this process's scratch space, for the caller to remove with {@link #deleteTree}. */
    public Path newDirectory(String prefix) throws IOException {
        return Files.createTempDirectory(path, prefix);
    }

    /** Removes a directory and everything in it. */
    public static void deleteTree(Path dir) throws IOException {
        ProcessDirectory.deleteTree(dir);
    }

    /** Removes dead processes' scratch directories and older loose files; how many entries went. */
    int reclaim(long olderThanMillis) throws IOException {
        return ProcessDirectory.reclaim(parent, olderThanMillis);
    }
}
