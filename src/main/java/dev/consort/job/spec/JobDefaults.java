package dev.consort.job.spec;

/**
 * The defaults job specs fall back to when a field is left out, in one place so that jobs agree: a
 * checkpoint evaluated by an evaluate job and by a merge job uses the same windows unless asked otherwise.
 */
public final class JobDefaults {

    /** Tokens per window (capped by the model's n_positions). */
    public static final int CONTEXT = 256;
    /** Windows per forward pass; results do not depend on it beyond float rounding. */
    public static final int BATCH_SIZE = 8;
    /** Evaluation windows of an evaluate job. */
    public static final int EVALUATE_WINDOWS = 128;
    /** Evaluation windows of each row of a merge job's results table. */
    public static final int MERGE_EVAL_WINDOWS = 64;
    /** Windows a cka job samples. */
    public static final int CKA_WINDOWS = 64;
    /** Validation windows of training runs and router fitting. */
    public static final int VALIDATION_WINDOWS = 32;
    /** Optimizer steps of router fitting. */
    public static final int ROUTER_STEPS = 200;

    private JobDefaults() {}

    /** {@link #CONTEXT}, or the model's positions when it has fewer. */
    public static int context(int nPositions) {
        return Math.min(CONTEXT, nPositions);
    }
}
