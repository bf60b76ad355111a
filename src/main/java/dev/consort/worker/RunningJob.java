package dev.consort.worker;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

import dev.consort.job.JobContext;
import dev.consort.job.JobStoppedException;
import tools.jackson.databind.json.JsonMapper;

/**
 * The {@link JobContext} of one claimed job on one worker thread. Cancellation, shutdown and lease
 * loss arrive as flags (set by the heartbeat or the pool) and surface at the next
 * {@link #checkCancelled()} or write.
 */
final class RunningJob implements JobContext {

    private final ClaimedJob claimed;
    private final String device;
    private final JobQueue queue;
    private final JsonMapper json;
    private final WorkerPool pool;
    private final JobStateStore states;

    volatile boolean cancelRequested;
    volatile boolean leaseLost;

    RunningJob(ClaimedJob claimed, String device, JobQueue queue, JsonMapper json, WorkerPool pool, JobStateStore states) {
        this.claimed = claimed;
        this.device = device;
        this.queue = queue;
        this.json = json;
        this.pool = pool;
        this.states = states;
    }

    Lease lease() {
        return claimed.lease();
    }

    @Override
    public UUID jobId() {
        return claimed.lease().jobId();
    }

    @Override
    public int attempt() {
        return claimed.attempt();
    }

    @Override
    public String device() {
        return device;
    }

    @Override
    public void event(String kind, String message, Map<String, ?> data) {
        ensureWritable();
        fenced(queue.appendEvent(lease(), kind, message, data == null ? null : json.writeValueAsString(data)));
    }

    @Override
    public void progress(Map<String, ?> progress) {
        ensureWritable();
        String body = json.writeValueAsString(progress);
        fenced(queue.updateProgress(lease(), body));
        fenced(queue.appendEvent(lease(), "progress", null, body));
    }

    @Override
    public void loss(String series, long step, long tokens, double value) {
        ensureWritable();
        fenced(queue.recordLoss(lease(), series, step, tokens, value));
    }

    @Override
    public void saveState(InputStream state) throws IOException {
        ensureWritable();
        fenced(states.save(lease(), state));
    }

    @Override
    public <T> T writeOutput(Output<T> write) throws IOException {
        ensureWritable();
        List<T> written = new ArrayList<>(1);
        try {
            fenced(queue.whileLeaseHeld(lease(), () -> {
                try {
                    written.add(write.write());
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }));
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
        return written.get(0);
    }

    @Override
    public Optional<InputStream> savedState() {
        return states.load(jobId());
    }

    @Override
    public void checkCancelled() {
        ensureWritable();
        if (cancelRequested) {
            throw new JobStoppedException(JobStoppedException.Reason.CANCELLED);
        }
        if (pool.isStopping()) {
            throw new JobStoppedException(JobStoppedException.Reason.SHUTDOWN);
        }
    }

    private void ensureWritable() {
        if (leaseLost || pool.isHalted()) {
            throw new JobStoppedException(JobStoppedException.Reason.LEASE_LOST);
        }
    }

    private void fenced(boolean written) {
        if (!written) {
            leaseLost = true;
            throw new JobStoppedException(JobStoppedException.Reason.LEASE_LOST);
        }
    }
}
