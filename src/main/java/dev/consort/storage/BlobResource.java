package dev.consort.storage;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.NoSuchFileException;

import org.springframework.core.io.AbstractResource;

/**
 * A published blob as a Spring {@link org.springframework.core.io.Resource} of known length that can be
 * opened more than once, so a download answers {@code Range} requests (resuming a multi-GB transfer)
 * without buffering anything.
 */
public class BlobResource extends AbstractResource {

    private final BlobStore store;
    private final String sha256;
    private final long size;

    public BlobResource(BlobStore store, String sha256, long size) {
        this.store = store;
        this.sha256 = sha256;
        this.size = size;
    }

    @Override
    public InputStream getInputStream() throws IOException {
        try {
            return store.open(sha256);
        } catch (NoSuchFileException e) {
            throw new FileNotFoundException("blob " + sha256 + " is gone");
        }
    }

    @Override
    public boolean exists() {
        return store.exists(sha256);
    }

    @Override
    public long contentLength() {
        return size;
    }

    @Override
    public long lastModified() {
        return -1;
    }

    @Override
    public String getDescription() {
        return "blob " + sha256;
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof BlobResource r && r.sha256.equals(sha256);
    }

    @Override
    public int hashCode() {
        return sha256.hashCode();
    }
}
