package dev.consort.job;

/**
 * Thrown from {@link JobContext#checkCancelled()} (and fenced writes) to unwind a handler: the job was
 * cancelled, the worker is shutting down, or another worker now owns the job.
 */
public class JobStoppedException extends RuntimeException {

    public enum Reason { CANCELLED, SHUTDOWN, LEASE_LOST }

    private final Reason reason;

    public JobStoppedException(Reason reason) {
        super("job stopped: " + reason.name().toLowerCase());
        this.reason = reason;
    }

    public Reason reason() {
        return reason;
    }
}
