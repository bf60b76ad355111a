package dev.consort.storage;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.AccessDeniedException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * How a blob's bytes and its directory entries are flushed to disk before a row may name it (fsync of the file, then
 * of the directory after the rename). One seam, so a test can see that and when each flush happens: a missing one
 * is otherwise visible only after a power cut.
 */
interface DiskSync {

    /** Flushes a file's bytes and metadata. */
    void force(FileChannel file) throws IOException;

    /** Flushes a directory's entries (a rename into it, a file created in it). */
    void forceDirectory(Path dir) throws IOException;

    /** The operating system's fsync. */
    DiskSync SYSTEM = new DiskSync() {
        @Override
        public void force(FileChannel file) throws IOException {
            file.force(true);
        }

        /** Linux allows opening a directory for reading and forcing it; where a platform refuses, there is nothing more to do. */
        @Override
        public void forceDirectory(Path dir) throws IOException {
            try (FileChannel channel = FileChannel.open(dir, StandardOpenOption.READ)) {
                channel.force(true);
            } catch (UnsupportedOperationException | AccessDeniedException notSupported) {
                // Windows cannot open a directory as a channel; its renames are durable by other means.
            }
        }
    };
}
