package dev.consort.job;

import java.io.IOException;
import java.io.InputStream;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

/**
 * The one small interface a running job reports through. Every write is fenced by the job's lease:
 * once another worker owns the job, writes fail with {@link JobStoppedException} instead of landing.
 */
public interface JobContext {

    UUID jobId();

    /** 1 on the first claim, 2 after one requeue, ... */
    int attempt();

    /** The device this worker thread drives: {@code cpu}, {@code gpu:0}, ... */
    String device();

    /** Appends an event to the job's event log (seen by GET /jobs/{id}/events and its SSE stream). */
    void event(String kind, String message, Map<String, ?> data);

    /** Replaces the job's progress summary and appends a {@code progress} event carrying it. */
    void progress(Map<String, ?> progress);

    /** Records one point of a loss curve; a step recorded twice (after a resume) keeps the last value. */
    void loss(String series, long step, long tokens, double value);

    /**
     * Saves the job's resumable state (replacing the previous one). A job requeued after its worker died
     * gets it back from {@link #savedState()} on its next attempt.
     */
    void saveState(InputStream state) throws IOException;

    /** The state saved by an earlier attempt of this job, if any; the caller closes the stream. */
    Optional<InputStream> savedState();

    /**
     * Writes a job output (catalog rows such as checkpoints, routed models, CKA matrices, {@code best} marks) in
     * one transaction that first checks that this worker still holds the job's lease and keeps the job's row
     * locked until it commits: a worker that lost its job (paused past its lease, cut off from the database) adds,
     * replaces and removes nothing, and gets {@link JobStoppedException} instead. Keep {@code write} to database
     * work: the lock holds off the job's heartbeat while it runs.
     */
    <T> T writeOutput(Output<T> write) throws IOException;

    /** A job output's write, run by {@link #writeOutput}. */
    @FunctionalInterface
    interface Output<T> {
        T write() throws IOException;
    }

    /** Throws {@link JobStoppedException} if the job was cancelled, its worker is stopping, or the lease is lost. */
    void checkCancelled();
}
