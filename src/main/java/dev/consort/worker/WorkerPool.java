package dev.consort.worker;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.regex.Pattern;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;
import org.springframework.core.retry.RetryException;
import org.springframework.core.retry.RetryListener;
import org.springframework.core.retry.RetryPolicy;
import org.springframework.core.retry.RetryTemplate;
import org.springframework.core.retry.Retryable;

import dev.consort.database.DatabaseUnavailable;
import dev.consort.job.InvalidSpecException;
import dev.consort.job.JobFailedException;
import dev.consort.job.JobHandler;
import dev.consort.job.JobStoppedException;
import dev.consort.job.JobTypes;
import dev.consort.job.spec.JobSpec;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.json.JsonMapper;

/**
 * Worker threads, one per device, each claiming and running one job at a time. Several pools (in one
 * JVM for tests, or one per process in production) share the queue safely: claims skip locked rows
 * and every write is fenced by the lease.
 */
public class WorkerPool implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(WorkerPool.class);
    /** Longest pause between attempts to reach an unreachable database. */
    private static final Duration MAX_BACKOFF = Duration.ofSeconds(5);
    /** How libtorch reports a failed allocation, on the CPU ("not enough memory") and on CUDA ("out of memory"). */
    private static final Pattern NATIVE_OUT_OF_MEMORY = Pattern.compile(
            "(?i)out of memory|not enough memory|can't allocate memory");

    private final String name;
    private final WorkerSettings settings;
    private final JobQueue queue;
    private final JobTypes types;
    private final JsonMapper json;
    private final JobStateStore states;
    private final List<Thread> threads = new CopyOnWriteArrayList<>();
    private final ScheduledExecutorService heartbeats;

    private volatile boolean stopping;
    private volatile boolean halted;

    public WorkerPool(String name, WorkerSettings settings, JobQueue queue, JobTypes types, JsonMapper json,
            JobStateStore states) {
        this.name = name;
        this.settings = settings;
        this.queue = queue;
        this.types = types;
        this.json = json;
        this.states = states;
        this.heartbeats = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, name + "-heartbeat");
            t.setDaemon(true);
            return t;
        });
    }

    public synchronized void start() {
        if (!threads.isEmpty()) {
            return;
        }
        for (String device : settings.devices()) {
            Thread thread = new Thread(() -> workLoop(device), name + "-" + device);
            thread.setDaemon(true);
            thread.setUncaughtExceptionHandler((dead, e) -> log.error("Worker thread {} died", dead.getName(), e));
            threads.add(thread);
            thread.start();
        }
        log.info("Worker pool {} started on devices {}", name, settings.devices());
    }

    boolean isStopping() {
        return stopping;
    }

    /** How many worker threads the pool started. */
    public int threadCount() {
        return threads.size();
    }

    /** The worker threads that have ended although the pool was not stopped: readiness reports them. */
    public List<String> deadThreads() {
        if (stopping) {
            return List.of();
        }
        return threads.stream().filter(thread -> !thread.isAlive()).map(Thread::getName).toList();
    }

    boolean isHalted() {
        return halted;
    }

    /**
     * Graceful stop: running jobs see {@link JobStoppedException} ({@code SHUTDOWN}) at their next check,
     * save their state (training does), and are released to the queue at once, without waiting for
     * their lease to expire, for another worker to resume; waits up to {@code timeout}.
     */
    public void stop(Duration timeout) {
        stopping = true;
        joinAll(timeout);
        heartbeats.shutdownNow();
    }

    /**
     * Simulates a crash, for tests: threads stop at once, heartbeats stop, and nothing more is written,
     * so the jobs they held stay leased until the reaper notices.
     */
    public void halt() {
        halted = true;
        stopping = true;
        heartbeats.shutdownNow();
        threads.forEach(Thread::interrupt);
        joinAll(Duration.ofSeconds(10));
    }

    @Override
    public void close() {
        stop(Duration.ofSeconds(30));
    }

    private void joinAll(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        for (Thread thread : threads) {
            try {
                thread.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    private void workLoop(String device) {
        String deviceClass = WorkerSettings.deviceClass(device);
        while (!stopping) {
            try {
                String owner = name + "/" + device + "/" + UUID.randomUUID();
                var claimed = queue.claim(owner, deviceClass, settings.lease());
                if (claimed.isPresent()) {
                    execute(claimed.get(), device);
                } else {
                    Thread.sleep(settings.poll().toMillis());
                }
            } catch (InterruptedException e) {
                if (halted) {
                    return;
                }
            } catch (RuntimeException e) {
                // Typically the database is unreachable: back off and try again.
                if (!halted) {
                    log.warn("Worker {} on {} could not poll the queue: {}", name, device, e.toString());
                    sleepQuietly(backoff());
                }
            } catch (ThreadDeath death) {
                throw death;
            } catch (Throwable e) {
                // An Error outside any job (claiming one, or recording its end): this thread is the device's only
                // worker, so it carries on rather than leave the device idle while the process looks healthy.
                if (!halted) {
                    log.error("Worker {} on {} hit {} outside a job; carrying on", name, device, e.toString(), e);
                    sleepQuietly(backoff());
                }
            }
        }
    }

    private Duration backoff() {
        return MAX_BACKOFF.compareTo(settings.poll().multipliedBy(5)) < 0 ? MAX_BACKOFF : settings.poll().multipliedBy(5);
    }

    private void execute(ClaimedJob claimed, String device) {
        RunningJob job = new RunningJob(claimed, device, queue, json, this, states);
        MDC.put("job_id", job.jobId().toString());
        ScheduledFuture<?> heartbeat = heartbeats.scheduleWithFixedDelay(() -> beat(job),
                settings.heartbeat().toMillis(), settings.heartbeat().toMillis(), TimeUnit.MILLISECONDS);
        try {
            log.info("Running {} job {} (attempt {}) on {}", claimed.type(), job.jobId(), claimed.attempt(), device);
            job.event("started", "attempt " + claimed.attempt() + " on " + name + "/" + device,
                    Map.of("attempt", claimed.attempt(), "worker", name, "device", device));
            Object result = runHandler(claimed, job);
            finish(job, "succeeded", result == null ? null : json.writeValueAsString(result), null, null);
        } catch (JobStoppedException stopped) {
            switch (stopped.reason()) {
                case CANCELLED -> finish(job, "cancelled", null, null, "cancelled by request");
                case SHUTDOWN -> {
                    if (!halted) {
                        queue.release(job.lease(), "worker " + name + " shutting down; job requeued");
                        log.info("Released job {} to the queue: this worker is shutting down", job.jobId());
                    }
                }
                case LEASE_LOST -> log.warn("Lost the lease on job {}; another worker owns it now", job.jobId());
            }
        } catch (JobFailedException failed) {
            finish(job, "failed", null, failed.code(), failed.getMessage());
        } catch (Exception e) {
            if (halted) {
                return;
            }
            if (DatabaseUnavailable.isCause(e)) {
                // Not the job's fault: it goes back to the queue (and resumes from its saved state) once
                // the database answers; if its lease expires first, the reaper requeues it instead.
                log.warn("Database unavailable while running job {} ({}); releasing it once the database is back",
                        job.jobId(), e.toString());
                whenDatabaseAnswers("release job " + job.jobId(),
                        () -> queue.release(job.lease(), "database unavailable on " + name + "; job requeued"));
                return;
            }
            String message = e.getClass().getSimpleName() + ": " + e.getMessage();
            if (e.getMessage() != null && NATIVE_OUT_OF_MEMORY.matcher(e.getMessage()).find()) {
                log.error("Job {} ran out of native memory", job.jobId(), e);
                finish(job, "failed", null, RESOURCE_EXHAUSTED, exhausted(message));
                return;
            }
            log.error("Job {} failed", job.jobId(), e);
            finish(job, "failed", null, "internal_error", message);
        } catch (OutOfMemoryError | StackOverflowError e) {
            // The job's own objects are unreachable once it has unwound, so the thread can go on; running the job
            // again would exhaust the same resource, so it fails now instead of being retried max_attempts times.
            if (halted) {
                return;
            }
            log.error("Job {} exhausted a resource", job.jobId(), e);
            finish(job, "failed", null, RESOURCE_EXHAUSTED, exhausted(e.getClass().getSimpleName() + ": " + e.getMessage()));
        } catch (ThreadDeath death) {
            throw death;
        } catch (Error e) {
            if (halted) {
                return;
            }
            log.error("Job {} failed with an error", job.jobId(), e);
            finish(job, "failed", null, "internal_error", e.getClass().getSimpleName() + ": " + e.getMessage());
        } finally {
            heartbeat.cancel(false);
            MDC.remove("job_id");
        }
    }

    /** The error code of a job that ran out of memory or stack: not retried, since a rerun would too. */
    static final String RESOURCE_EXHAUSTED = "resource_exhausted";

    private static String exhausted(String cause) {
        return "the job ran out of memory (" + cause + "); it is not retried: give it a smaller batch_size, context "
                + "or model";
    }

    /** Runs the job's handler on the plan stored at submission (planned from the spec for older jobs). */
    @SuppressWarnings({"unchecked", "rawtypes"})
    private Object runHandler(ClaimedJob claimed, RunningJob job) throws Exception {
        JobHandler handler = types.handler(claimed.type()).orElseThrow(() -> new JobFailedException(
                "no_handler", "this worker has no handler for job type " + claimed.type()));
        Object plan;
        try {
            plan = claimed.planJson() != null ? json.readValue(claimed.planJson(), handler.planType())
                    : handler.plan((JobSpec) json.readValue(claimed.specJson(), handler.specType()));
        } catch (JacksonException e) {
            throw new JobFailedException("invalid_spec", "the stored job no longer matches its handler: "
                    + e.getOriginalMessage());
        } catch (InvalidSpecException e) {
            throw new JobFailedException("invalid_spec", e.getMessage());
        }
        return handler.run(plan, job);
    }

    /** Records the outcome, waiting out a database outage so that a finished job is not run again. */
    private void finish(RunningJob job, String status, String result, String code, String message) {
        if (halted) {
            return;
        }
        Boolean recorded = whenDatabaseAnswers("record " + status + " for job " + job.jobId(),
                () -> queue.finish(job.lease(), status, result, code, message));
        if (Boolean.TRUE.equals(recorded)) {
            // A finished job never resumes; its state blob must not outlive it.
            whenDatabaseAnswers("drop the saved state of job " + job.jobId(), () -> {
                states.drop(job.jobId());
                return true;
            });
        } else if (Boolean.FALSE.equals(recorded)) {
            log.warn("Could not record {} for job {}: lease lost", status, job.jobId());
        }
    }

    /**
     * Runs {@code write} until the database answers it, backing off (from the poll interval, doubling, to 5 s)
     * while it is unreachable. Gives up (returns null) when the pool stops: the job's lease then expires and
     * the reaper requeues it. Other failures propagate at once.
     */
    private <T> T whenDatabaseAnswers(String what, Supplier<T> write) {
        RetryTemplate retry = new RetryTemplate(RetryPolicy.builder()
                .predicate(failure -> DatabaseUnavailable.isCause(failure) && !stopping)
                .maxRetries(Long.MAX_VALUE)
                .delay(settings.poll()).multiplier(2).maxDelay(MAX_BACKOFF)
                .build());
        retry.setRetryListener(new RetryListener() {
            @Override
            public void onRetryFailure(RetryPolicy policy, Retryable<?> retryable, Throwable failure) {
                log.warn("Could not {}: {}; retrying", what, failure.toString());
            }
        });
        try {
            return retry.execute(write::get);
        } catch (RetryException e) {
            Throwable last = e.getLastException();
            if (DatabaseUnavailable.isCause(last)) {
                log.warn("Could not {} before stopping: {}", what, last.toString());
                return null;
            }
            throw last instanceof RuntimeException runtime ? runtime : new IllegalStateException(last);
        }
    }

    private void beat(RunningJob job) {
        if (halted) {
            return;
        }
        try {
            switch (queue.heartbeat(job.lease(), settings.lease())) {
                case LOST -> job.leaseLost = true;
                case CANCEL_REQUESTED -> job.cancelRequested = true;
                case HELD -> { }
            }
        } catch (RuntimeException e) {
            // Database briefly unreachable: the lease may still be valid; try again next beat.
            log.warn("Heartbeat for job {} failed: {}", job.jobId(), e.toString());
        }
    }

    private static void sleepQuietly(Duration duration) {
        try {
            Thread.sleep(duration.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
