package dev.consort.worker;

import java.util.concurrent.ScheduledFuture;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.DisposableBean;
import org.springframework.beans.factory.SmartInitializingSingleton;
import org.springframework.scheduling.TaskScheduler;
import org.springframework.stereotype.Component;

import dev.consort.ConsortProperties;

/**
 * Periodically requeues jobs whose workers stopped heartbeating, and drops the saved states of jobs
 * that ended. Every process runs it: the update is a single statement, so several reapers at once
 * still handle each job once. A failed round (the database down) is logged and the next one tried.
 */
@Component
class LeaseReaper implements SmartInitializingSingleton, DisposableBean {

    private static final Logger log = LoggerFactory.getLogger(LeaseReaper.class);

    private final JobQueue queue;
    private final JobStateStore states;
    private final TaskScheduler scheduler;
    private final ConsortProperties properties;
    private ScheduledFuture<?> task;

    LeaseReaper(JobQueue queue, JobStateStore states, TaskScheduler scheduler, ConsortProperties properties) {
        this.queue = queue;
        this.states = states;
        this.scheduler = scheduler;
        this.properties = properties;
    }

    @Override
    public void afterSingletonsInstantiated() {
        task = scheduler.scheduleWithFixedDelay(this::reap, properties.worker().reaperInterval());
    }

    void reap() {
        try {
            queue.reapExpiredLeases();
            int dropped = states.dropEnded();
            if (dropped > 0) {
                log.info("Dropped the saved state of {} ended job(s)", dropped);
            }
        } catch (RuntimeException e) {
            log.warn("Lease reaper failed: {}", e.toString());
        }
    }

    @Override
    public void destroy() {
        if (task != null) {
            task.cancel(false);
        }
    }
}
