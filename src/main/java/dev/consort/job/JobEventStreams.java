package dev.consort.job;

import java.io.IOException;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.DisposableBean;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.stereotype.Component;
import org.springframework.web.servlet.mvc.method.annotation.SseEmitter;

import dev.consort.web.ApiProblem;
import dev.consort.web.LimitsProperties;
import dev.consort.web.ProblemType;

/**
 * Server-Sent Events of job events. Each stream replays from its cursor, then polls PostgreSQL (the
 * events may come from a worker in another process), sends a heartbeat comment when quiet, and ends
 * once the job is finished and every event has been sent.
 *
 * <p>Open streams are bounded ({@code consort.limits.event-streams} in all, {@code event-streams-per-tenant}
 * per tenant): past either the next one is refused with a problem and {@code Retry-After}. A stream's slot
 * is freed when it ends, times out, or fails to send (a client that went away is noticed at the next
 * heartbeat at the latest).
 *
 * <p>Polling (database reads, on two shared threads) is apart from writing (a writer thread per write in
 * progress): a client that stops reading blocks only its own write, never the poll of another tenant's stream,
 * and a write blocked for {@code consort.limits.event-stream-write-timeout} closes its stream and frees its slot.
 */
@Component
class JobEventStreams implements DisposableBean {

    private static final Logger log = LoggerFactory.getLogger(JobEventStreams.class);
    static final Duration POLL = Duration.ofMillis(500);
    static final Duration MAX_STREAM = Duration.ofHours(1);

    private final JobRepository jobs;
    private final Duration heartbeat;
    private final int maxStreams;
    private final int maxStreamsPerTenant;
    private final Map<String, Integer> perTenant = new HashMap<>();
    private int total;
    private final ScheduledExecutorService poller = Executors.newScheduledThreadPool(2, r -> {
        Thread t = new Thread(r, "job-event-streams");
        t.setDaemon(true);
        return t;
    });
    /** Writes to clients; a stalled one holds a thread until the connection's own timeout ends its write. */
    private final ThreadPoolExecutor writers;
    private final Duration writeTimeout;
    private final Set<Stream> open = ConcurrentHashMap.newKeySet();

    JobEventStreams(JobRepository jobs, LimitsProperties limits) {
        this.jobs = jobs;
        this.writeTimeout = limits.eventStreamWriteTimeout();
        // At most one write per open stream, plus stalled writes of streams already closed for timing out.
        this.writers = new ThreadPoolExecutor(0, 2 * limits.eventStreams(), 30, TimeUnit.SECONDS,
                new SynchronousQueue<>(), r -> {
                    Thread t = new Thread(r, "job-event-writer");
                    t.setDaemon(true);
                    return t;
                });
        this.heartbeat = limits.eventStreamHeartbeat();
        this.maxStreams = limits.eventStreams();
        this.maxStreamsPerTenant = limits.eventStreamsPerTenant();
    }

    /** Opens a stream for {@code tenant}, or refuses it (503 or 429 problem) when the limits are reached. */
    SseEmitter open(UUID jobId, long after, String tenant) {
        reserve(tenant);
        SseEmitter emitter;
        Stream stream;
        try {
            emitter = new SseEmitter(MAX_STREAM.toMillis());
            stream = new Stream(jobId, after, emitter, tenant);
        } catch (RuntimeException e) {
            release(tenant);
            throw e;
        }
        open.add(stream);
        emitter.onCompletion(stream::close);
        emitter.onTimeout(stream::close);
        emitter.onError(e -> stream.close());
        stream.schedule(0);
        return emitter;
    }

    int openStreams() {
        return open.size();
    }

    private synchronized void reserve(String tenant) {
        int ofTenant = perTenant.getOrDefault(tenant, 0);
        if (total >= maxStreams) {
            throw ApiProblem.retryLater(HttpStatus.SERVICE_UNAVAILABLE, ProblemType.CAPACITY_EXCEEDED, total
                    + " event streams are open, the most this server keeps (consort.limits.event-streams); retry in "
                    + LimitsProperties.RETRY_AFTER_SECONDS + " s or page GET /jobs/{id}/events as JSON",
                    LimitsProperties.RETRY_AFTER_SECONDS);
        }
        if (ofTenant >= maxStreamsPerTenant) {
            throw ApiProblem.retryLater(HttpStatus.TOO_MANY_REQUESTS, ProblemType.TOO_MANY_REQUESTS, "This tenant has "
                    + ofTenant + " event streams open, the most allowed (consort.limits.event-streams-per-tenant); "
                    + "close one or retry in " + LimitsProperties.RETRY_AFTER_SECONDS + " s",
                    LimitsProperties.RETRY_AFTER_SECONDS);
        }
        total++;
        perTenant.put(tenant, ofTenant + 1);
    }

    private synchronized void release(String tenant) {
        total--;
        perTenant.computeIfPresent(tenant, (t, n) -> n > 1 ? n - 1 : null);
    }

    @Override
    public void destroy() {
        open.forEach(s -> s.emitter.complete());
        poller.shutdownNow();
        writers.shutdownNow();
    }

    private final class Stream {
        private final UUID jobId;
        private final SseEmitter emitter;
        private final String tenant;
        private long cursor;
        private long lastSentNanos = System.nanoTime();
        private final AtomicBoolean closed = new AtomicBoolean();

        Stream(UUID jobId, long after, SseEmitter emitter, String tenant) {
            this.jobId = jobId;
            this.cursor = after;
            this.emitter = emitter;
            this.tenant = tenant;
        }

        void schedule(long delayMillis) {
            if (!closed.get()) {
                poller.schedule(this::poll, delayMillis, TimeUnit.MILLISECONDS);
            }
        }

        /** On a poller thread: reads what is new and hands it to a writer, with a watchdog on the write. */
        void poll() {
            if (closed.get()) {
                return;
            }
            try {
                // Read the status before the events so the last events of a finishing job are never missed.
                boolean finished = jobs.find(jobId).map(j -> JobStatus.parse(j.status()).orElseThrow().terminal())
                        .orElse(true);
                List<JobEventView> events = jobs.events(jobId, cursor, 500);
                ScheduledFuture<?> watchdog = poller.schedule(this::stalled, writeTimeout.toMillis(),
                        TimeUnit.MILLISECONDS);
                try {
                    writers.execute(() -> write(events, finished, watchdog));
                } catch (RejectedExecutionException busy) {
                    watchdog.cancel(false);
                    log.warn("No writer free for the event stream of job {}; closing it", jobId);
                    close();
                    emitter.complete();
                }
            } catch (RuntimeException e) {
                log.warn("Event stream for job {} failed: {}", jobId, e.toString());
                emitter.completeWithError(e);
                close();
            }
        }

        /** On a writer thread: sends the events (and a heartbeat when due), then schedules the next poll. */
        private void write(List<JobEventView> events, boolean finished, ScheduledFuture<?> watchdog) {
            try {
                for (JobEventView event : events) {
                    emitter.send(SseEmitter.event().id(Long.toString(event.id())).name(event.kind())
                            .data(event, MediaType.APPLICATION_JSON));
                    cursor = event.id();
                    lastSentNanos = System.nanoTime();
                }
                if (finished && events.size() < 500) {
                    close(); // first, so the slot is free by the time the client sees the end
                    emitter.complete();
                    return;
                }
                if (System.nanoTime() - lastSentNanos > heartbeat.toNanos()) {
                    emitter.send(SseEmitter.event().comment("heartbeat"));
                    lastSentNanos = System.nanoTime();
                }
                schedule(events.size() == 500 ? 0 : POLL.toMillis());
            } catch (IOException | IllegalStateException e) {
                close(); // the client went away
            } catch (RuntimeException e) {
                log.warn("Event stream for job {} failed: {}", jobId, e.toString());
                emitter.completeWithError(e);
                close();
            } finally {
                watchdog.cancel(false);
            }
        }

        /** The watchdog: a write still blocked after the write timeout means a client that stopped reading. */
        private void stalled() {
            if (closed.get()) {
                return;
            }
            log.info("Event stream for job {} stalled: one write blocked for {}; closing it", jobId, writeTimeout);
            close();
            // Not on this thread: the emitter's methods wait for its lock, which the blocked write holds until the
            // connection's own timeout ends it.
            try {
                writers.execute(emitter::complete);
            } catch (RejectedExecutionException ignored) {
                // The blocked write ends with the connection; the slot, freed above, is what matters.
            }
        }

        /** Idempotent: the emitter's callbacks and the poller may both close a stream; its slot is freed once. */
        void close() {
            if (closed.compareAndSet(false, true)) {
                open.remove(this);
                release(tenant);
            }
        }
    }
}
