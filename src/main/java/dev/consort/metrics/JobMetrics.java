package dev.consort.metrics;

import java.time.Duration;
import java.util.List;

import org.springframework.stereotype.Component;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;

/**
 * Meters the queue records as jobs end: how long jobs took by type and outcome, and what the lease reaper
 * did with jobs whose worker vanished. Labels are bounded sets (job types, outcomes): never a job id.
 */
@Component
public class JobMetrics {

    /** Histogram buckets from seconds (a rejected spec) to a day (pretraining): few, so series stay cheap. */
    private static final Duration[] JOB_DURATION_BUCKETS = {Duration.ofSeconds(1), Duration.ofSeconds(10),
            Duration.ofMinutes(1), Duration.ofMinutes(5), Duration.ofMinutes(15), Duration.ofHours(1),
            Duration.ofHours(3), Duration.ofHours(12), Duration.ofDays(1)};

    private final MeterRegistry registry;

    public JobMetrics(MeterRegistry registry) {
        this.registry = registry;
        for (String outcome : List.of("requeued", "failed", "cancelled")) {
            leaseExpired(outcome);
        }
    }

    /** A job ended ({@code succeeded}, {@code failed} or {@code cancelled}) this long after it first started. */
    public void jobFinished(String type, String outcome, Duration sinceFirstStart) {
        Timer.builder("consort.job.duration")
                .description("Time from a job's first start to its end, by type and outcome")
                .tags("type", type, "outcome", outcome)
                .serviceLevelObjectives(JOB_DURATION_BUCKETS)
                .register(registry)
                .record(sinceFirstStart);
    }

    /** The reaper found a job's lease expired and {@code requeued}, {@code failed} or {@code cancelled} it. */
    public void leaseExpired(String outcome, int jobs) {
        leaseExpired(outcome).increment(jobs);
    }

    private Counter leaseExpired(String outcome) {
        return Counter.builder("consort.lease.expired")
                .description("Jobs whose worker stopped renewing its lease, by what the reaper did with them")
                .tag("outcome", outcome)
                .register(registry);
    }
}
