package dev.consort.storage;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Bytes streamed to a temporary file and hashed, not yet published. Closing deletes the temporary
 * file if it was not published, so a rejected upload leaves nothing behind.
 */
public record StagedBlob(Path file, String sha256, long size) implements AutoCloseable {

    @Override
    public void close() throws IOException {
        Files.deleteIfExists(file);
    }
}
