package dev.consort.checkpoint;

import java.io.IOException;
import java.io.InputStream;

import org.springframework.stereotype.Service;

import dev.consort.checkpoint.CheckpointValidator.ValidCheckpoint;
import dev.consort.checkpoint.CheckpointValidator.ValidConfig;
import dev.consort.storage.BlobStore;
import dev.consort.storage.StagedBlob;
import dev.consort.web.ApiProblem;

/**
 * Brings checkpoints in: a user's upload, or the output of a job. Either way the weights are staged,
 * validated completely, and only then stored; a rejected checkpoint leaves no row and no file.
 */
@Service
public class CheckpointUploadService {

    static final int MAX_NAME_LENGTH = 200;

    private final BlobStore blobStore;
    private final CheckpointCatalog catalog;

    CheckpointUploadService(BlobStore blobStore, CheckpointCatalog catalog) {
        this.blobStore = blobStore;
        this.catalog = catalog;
    }

    /** A user's upload: the config.json and model.safetensors streams, an optional name. */
    public CheckpointView upload(InputStream configJson, InputStream weights, String name) throws IOException {
        String checkedName = checkName(name);
        // One byte over the cap is enough to reject it; a huge "config" never reaches the heap.
        byte[] configBytes = configJson.readNBytes(CheckpointValidator.MAX_CONFIG_BYTES + 1);
        ValidConfig config = CheckpointValidator.config(configBytes);
        try (StagedBlob staged = blobStore.stage(weights)) {
            ValidCheckpoint valid = CheckpointValidator.weights(config, staged.file());
            return CheckpointView.of(catalog.store(valid, staged, checkedName, CheckpointProvenance.UPLOADED));
        }
    }

    /**
     * Registers a checkpoint a job produced, validated exactly like an upload. The caller keeps owning
     * {@code weights} and closes it afterwards (a no-op once published).
     */
    public CheckpointView register(byte[] configJson, StagedBlob weights, String name, CheckpointProvenance provenance)
            throws IOException {
        String checkedName = checkName(name);
        ValidConfig config = CheckpointValidator.config(configJson);
        ValidCheckpoint valid = CheckpointValidator.weights(config, weights.file());
        return CheckpointView.of(catalog.store(valid, weights, checkedName, provenance));
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
