package dev.consort.job;

import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.DisposableBean;
import org.springframework.http.MediaType;
import org.springframework.stereotype.Component;
import org.springframework.web.servlet.mvc.method.annotation.SseEmitter;

/**
 * Server-Sent Events of job events. Each stream replays from its cursor, then polls PostgreSQL (the
 * events may come from a worker in another process), sends a heartbeat comment when quiet, and ends
 * once the job is finished and every event has been sent.
 */
@Component
class JobEventStreams implements DisposableBean {

    private static final Logger log = LoggerFactory.getLogger(JobEventStreams.class);
    static final Duration POLL = Duration.ofMillis(500);
    static final Duration HEARTBEAT = Duration.ofSeconds(15);
    static final Duration MAX_STREAM = Duration.ofHours(1);

    private final JobRepository jobs;
    private final ScheduledExecutorService poller = Executors.newScheduledThreadPool(2, r -> {
        Thread t = new Thread(r, "job-event-streams");
        t.setDaemon(true);
        return t;
    });
    private final Set<Stream> open = ConcurrentHashMap.newKeySet();

    JobEventStreams(JobRepository jobs) {
        this.jobs = jobs;
    }

    SseEmitter open(UUID jobId, long after) {
        SseEmitter emitter = new SseEmitter(MAX_STREAM.toMillis());
        Stream stream = new Stream(jobId, after, emitter);
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

    @Override
    public void destroy() {
        open.forEach(s -> s.emitter.complete());
        poller.shutdownNow();
    }

    private final class Stream {
        private final UUID jobId;
        private final SseEmitter emitter;
        private long cursor;
        private long lastSentNanos = System.nanoTime();
        private volatile boolean closed;

        Stream(UUID jobId, long after, SseEmitter emitter) {
            this.jobId = jobId;
            this.cursor = after;
            this.emitter = emitter;
        }

        void schedule(long delayMillis) {
            if (!closed) {
                poller.schedule(this::poll, delayMillis, TimeUnit.MILLISECONDS);
            }
        }

        void poll() {
            if (closed) {
                return;
            }
            try {
                // Read the status before the events so the last events of a finishing job are never missed.
                boolean finished = jobs.find(jobId).map(j -> JobStatus.parse(j.status()).orElseThrow().terminal())
                        .orElse(true);
                List<JobEventView> events = jobs.events(jobId, cursor, 500);
                for (JobEventView event : events) {
                    emitter.send(SseEmitter.event().id(Long.toString(event.id())).name(event.kind())
                            .data(event, MediaType.APPLICATION_JSON));
                    cursor = event.id();
                    lastSentNanos = System.nanoTime();
                }
                if (finished && events.size() < 500) {
                    emitter.complete();
                    close();
                    return;
                }
                if (System.nanoTime() - lastSentNanos > HEARTBEAT.toNanos()) {
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
            }
        }

        void close() {
            closed = true;
            open.remove(this);
        }
    }
}
