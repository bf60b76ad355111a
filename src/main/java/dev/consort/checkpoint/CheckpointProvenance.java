package dev.consort.checkpoint;

import java.util.UUID;

/**
 * Where a checkpoint came from: the checkpoint it was trained or merged from, the job that produced it
 * and the training step it was saved at (all null for an upload), and whether the job marked it as the
 * best of its series.
 */
public record CheckpointProvenance(UUID parentId, UUID producingJobId, Long step, boolean best) {

    /** A checkpoint a user uploaded. */
    public static final CheckpointProvenance UPLOADED = new CheckpointProvenance(null, null, null, false);
}
