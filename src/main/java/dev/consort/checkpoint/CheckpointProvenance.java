package dev.consort.checkpoint;

import java.util.List;
import java.util.UUID;

/**
 * Where a checkpoint came from: the checkpoint it was trained or merged from, the job that produced it
 * and the training step it was saved at (all null for an upload), whether the job marked it as the
 * best of its series, and, for a weight-space merge, the checkpoints it combined (empty otherwise).
 */
public record CheckpointProvenance(UUID parentId, UUID producingJobId, Long step, boolean best, List<UUID> mergedFrom) {

    /** A checkpoint a user uploaded. */
    public static final CheckpointProvenance UPLOADED = new CheckpointProvenance(null, null, null, false);

    public CheckpointProvenance {
        mergedFrom = mergedFrom == null ? List.of() : List.copyOf(mergedFrom);
    }

    /** A checkpoint trained from {@code parentId} (or uploaded, when everything is null): merged from nothing. */
    public CheckpointProvenance(UUID parentId, UUID producingJobId, Long step, boolean best) {
        this(parentId, producingJobId, step, best, List.of());
    }
}
