package dev.consort.checkpoint;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;

import org.springframework.stereotype.Service;

import dev.consort.ConsortProperties;
import dev.consort.checkpoint.CheckpointValidator.ValidCheckpoint;
import dev.consort.checkpoint.CheckpointValidator.ValidConfig;
import dev.consort.storage.BlobReferences;
import dev.consort.storage.BlobStore;
import dev.consort.storage.ScratchDirectory;
import dev.consort.storage.StagedBlob;
import dev.consort.web.ApiProblem;

/**
 * Brings checkpoints in: a user's upload, or the output of a job. Either way the weights are staged,
 * validated completely, and only then published (outside any transaction) and registered; a rejected
 * checkpoint leaves no row and no file.
 */
@Service
public class CheckpointUploadService {

    static final int MAX_NAME_LENGTH = 200;
    /** What a folder may unpack to beyond its weights: the config and the shard index. */
    private static final long MAX_CONFIG_SLACK = 16L << 20;

    private final BlobStore blobStore;
    private final BlobReferences blobs;
    private final CheckpointCatalog catalog;
    private final ScratchDirectory scratch;
    private final long maxWeightBytes;

    CheckpointUploadService(BlobStore blobStore, BlobReferences blobs, CheckpointCatalog catalog,
            ScratchDirectory scratch, ConsortProperties properties) {
        this.blobStore = blobStore;
        this.blobs = blobs;
        this.catalog = catalog;
        this.scratch = scratch;
        this.maxWeightBytes = properties.upload().maxBytes().toBytes();
    }

    /**
     * A Hugging Face folder uploaded as one tar, tar.gz or zip ({@link CheckpointFolder}): its config and its weights
     * (sharded ones joined) are unpacked into this process's scratch directory, then validated and stored exactly
     * like an upload of the two files. The unpacked files are removed however it ends.
     */
    public CheckpointView uploadFolder(InputStream archive, String name) throws IOException {
        Path dir = scratch.newDirectory("folder-");
        try {
            CheckpointFolder.Contents contents = CheckpointFolder.extract(archive, dir, maxWeightBytes + MAX_CONFIG_SLACK);
            try (InputStream config = Files.newInputStream(contents.config());
                 InputStream weights = Files.newInputStream(contents.weights())) {
                return upload(config, weights, name);
            }
        } finally {
            ScratchDirectory.deleteTree(dir);
        }
    }

    /** A user's upload: the config.json and model.safetensors streams, an optional name. */
    public CheckpointView upload(InputStream configJson, InputStream weights, String name) throws IOException {
        String checkedName = checkName(name);
        // One byte over the cap is enough to reject it; a huge "config" never reaches the heap.
        byte[] configBytes = configJson.readNBytes(CheckpointValidator.MAX_CONFIG_BYTES + 1);
        ValidConfig config = CheckpointValidator.config(configBytes);
        try (StagedBlob staged = blobStore.stage(weights); PublishedCheckpoint published = publish(config, staged)) {
            return CheckpointView.of(catalog.store(published.valid(), published.weights(), checkedName,
                    CheckpointProvenance.UPLOADED));
        }
    }

    /**
     * Validates the weights a job produced exactly like an upload, then publishes them, outside any
     * transaction (for S3 an upload of possibly many GB). {@link #register} stores the checkpoint; the
     * caller keeps owning both {@code weights} and the result, and closes them afterwards.
     */
    public PublishedCheckpoint publish(byte[] configJson, StagedBlob weights) throws IOException {
        return publish(CheckpointValidator.config(configJson), weights);
    }

    /** Validation comes first: a rejected checkpoint is never published, so it leaves no row and no file. */
    private PublishedCheckpoint publish(ValidConfig config, StagedBlob weights) throws IOException {
        ValidCheckpoint valid = CheckpointValidator.weights(config, weights.file());
        return new PublishedCheckpoint(valid, blobs.publish(weights));
    }

    /** Registers a checkpoint a job produced and {@link #publish published}: database work only. */
    public CheckpointView register(PublishedCheckpoint checkpoint, String name, CheckpointProvenance provenance) {
        return CheckpointView.of(catalog.store(checkpoint.valid(), checkpoint.weights(), checkName(name), provenance));
    }

    private static String checkName(String name) {
        if (name == null || name.isBlank()) {
            return null;
        }
        if (name.length() > MAX_NAME_LENGTH) {
            throw ApiProblem.invalidField("name", "is " + name.length() + " characters; at most "
                    + MAX_NAME_LENGTH + " are allowed");
        }
        if (name.chars().anyMatch(Character::isISOControl)) {
            throw ApiProblem.invalidField("name", "must not contain control characters");
        }
        return name;
    }
}
