package dev.consort.storage;

import java.io.IOException;
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

    /** Removes dead processes' scratch directories and older loose files; how many entries went. */
    int reclaim(long olderThanMillis) throws IOException {
        return ProcessDirectory.reclaim(parent, olderThanMillis);
    }
}
