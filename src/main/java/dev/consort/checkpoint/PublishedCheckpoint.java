package dev.consort.checkpoint;

import dev.consort.checkpoint.CheckpointValidator.ValidCheckpoint;
import dev.consort.storage.PublishedBlob;

/**
 * A checkpoint whose weights were validated and then published (pinned until registered), made by
 * {@link CheckpointUploadService#publish} outside any transaction, so that
 * {@link CheckpointUploadService#register} is database work only. Close it once registered; if it never
 * was, closing releases the weights.
 */
public final class PublishedCheckpoint implements AutoCloseable {

    private final ValidCheckpoint valid;
    private final PublishedBlob weights;

    PublishedCheckpoint(ValidCheckpoint valid, PublishedBlob weights) {
        this.valid = valid;
        this.weights = weights;
    }

    ValidCheckpoint valid() {
        return valid;
    }

    PublishedBlob weights() {
        return weights;
    }

    @Override
    public void close() {
        weights.close();
    }
}
