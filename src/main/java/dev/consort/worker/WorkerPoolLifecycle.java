package dev.consort.worker;

import java.time.Duration;

import org.springframework.context.SmartLifecycle;
import org.springframework.stereotype.Component;

import dev.consort.ConsortProperties;
import dev.consort.job.JobTypes;
import dev.consort.storage.ProcessDirectory;
import tools.jackson.databind.json.JsonMapper;

/**
 * Runs this process's worker pool when its role includes {@code worker}: started after the web
 * server is up, stopped gracefully (jobs released to the queue) before the database goes away.
 */
@Component
class WorkerPoolLifecycle implements SmartLifecycle {

    private final ConsortProperties properties;
    private final JobQueue queue;
    private final JobTypes handlers;
    private final JsonMapper json;
    private final JobStateStore states;
    private WorkerPool pool;

    WorkerPoolLifecycle(ConsortProperties properties, JobQueue queue, JobTypes handlers, JsonMapper json,
            JobStateStore states) {
        this.properties = properties;
        this.queue = queue;
        this.handlers = handlers;
        this.json = json;
        this.states = states;
    }

    @Override
    public synchronized void start() {
        if (!properties.role().runsWorkers() || properties.worker().devices().isEmpty()) {
            return;
        }
        pool = new WorkerPool(processName(), WorkerSettings.from(properties.worker()), queue, handlers, json, states);
        pool.start();
    }

    @Override
    public synchronized void stop() {
        if (pool != null) {
            pool.stop(Duration.ofSeconds(25));
            pool = null;
        }
    }

    /** This process's pool, or null when it runs no workers (or is stopped). */
    synchronized WorkerPool pool() {
        return pool;
    }

    @Override
    public synchronized boolean isRunning() {
        return pool != null;
    }

    private static String processName() {
        return ProcessDirectory.hostName() + ":" + ProcessHandle.current().pid();
    }
}
