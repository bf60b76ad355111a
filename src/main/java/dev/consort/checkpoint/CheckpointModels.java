package dev.consort.checkpoint;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.UUID;

import org.springframework.stereotype.Component;

import ai.djl.Device;
import dev.consort.engine.Gpt2Config;
import dev.consort.engine.Gpt2FormatException;
import dev.consort.engine.Gpt2Model;
import dev.consort.storage.BlobStore;

/** Stored checkpoints as engine models, for the jobs that train, evaluate, merge or analyse them. */
@Component
public class CheckpointModels {

    private final CheckpointCatalog catalog;
    private final BlobStore blobs;

    CheckpointModels(CheckpointCatalog catalog, BlobStore blobs) {
        this.catalog = catalog;
        this.blobs = blobs;
    }

    public Checkpoint checkpoint(UUID id) {
        return catalog.find(id);
    }

    /**
     * The checkpoint's config. Uploads validate it before it is stored, so a stored one that no longer parses is
     * a fault of the service, not of the request, and is thrown unchecked.
     */
    public Gpt2Config config(Checkpoint checkpoint) {
        try {
            return Gpt2Config.parse(checkpoint.configJson().getBytes(StandardCharsets.UTF_8));
        } catch (Gpt2FormatException e) {
            throw new IllegalStateException("checkpoint " + checkpoint.id() + " has a stored config.json that no "
                    + "longer parses", e);
        }
    }

    /** Loads the checkpoint's weights onto {@code device}; the caller closes the model. */
    public Gpt2Model load(UUID id, Device device) throws IOException, Gpt2FormatException {
        Checkpoint checkpoint = catalog.find(id);
        return Gpt2Model.load(blobs.localCopy(checkpoint.weightsSha256()), config(checkpoint), device);
    }
}
