package dev.consort.archive;

import java.io.IOException;
import java.io.InputStream;

/** One file of an exported model folder: its name, its size in bytes, and its content, opened when written. */
record FolderEntry(String name, long size, Content content) {

    @FunctionalInterface
    interface Content {
        InputStream open() throws IOException;
    }

    static FolderEntry of(String name, byte[] bytes) {
        return new FolderEntry(name, bytes.length, () -> new java.io.ByteArrayInputStream(bytes));
    }
}
