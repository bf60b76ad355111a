package dev.consort.merge;

import java.io.IOException;
import java.util.UUID;

import org.springframework.stereotype.Component;

import dev.consort.checkpoint.Checkpoint;
import dev.consort.checkpoint.CheckpointModels;
import dev.consort.merge.weights.MergeCompatibility.MergeInput;
import dev.consort.storage.BlobStore;

/** Stored checkpoints as the weights library's merge inputs: config and a local model.safetensors. */
@Component
public class MergeInputs {

    private final CheckpointModels models;
    private final BlobStore blobs;

    MergeInputs(CheckpointModels models, BlobStore blobs) {
        this.models = models;
        this.blobs = blobs;
    }

    /** The checkpoint as a merge input that problems name by {@code field}. */
    public MergeInput of(String field, UUID checkpointId) throws IOException {
        Checkpoint checkpoint = models.checkpoint(checkpointId);
        return new MergeInput(field, models.config(checkpoint), blobs.localCopy(checkpoint.weightsSha256()));
    }
}
