package dev.consort.worker;

import java.util.List;

import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.stereotype.Component;

/**
 * Readiness of this process's workers ({@code workers} in the readiness group): down when a worker thread has
 * died while the pool was meant to run, so that an orchestrator replaces a process that still answers HTTP but
 * no longer runs jobs on one of its devices.
 */
@Component
class WorkersHealthIndicator implements HealthIndicator {

    private final WorkerPoolLifecycle lifecycle;

    WorkersHealthIndicator(WorkerPoolLifecycle lifecycle) {
        this.lifecycle = lifecycle;
    }

    @Override
    public Health health() {
        WorkerPool pool = lifecycle.pool();
        if (pool == null) {
            return Health.up().withDetail("threads", 0).build();
        }
        List<String> dead = pool.deadThreads();
        return (dead.isEmpty() ? Health.up() : Health.down()).withDetail("threads", pool.threadCount())
                .withDetail("dead", dead).build();
    }
}
