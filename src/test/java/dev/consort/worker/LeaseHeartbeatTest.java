package dev.consort.worker;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.UUID;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;

import dev.consort.database.TimeOrderedIds;
import dev.consort.job.JobRepository;
import dev.consort.support.ApiTest;

/**
 * A heartbeat renews the lease without changing what the job's view shows, so the view's ETag (what a polling client
 * sends back) stays the same; a progress report changes it.
 */
class LeaseHeartbeatTest extends ApiTest {

    private static final String DEVICE = "heartbeatlab";

    @Autowired
    JobQueue queue;
    @Autowired
    JobRepository jobs;

    @AfterEach
    void removeJobs() {
        jdbc.update("delete from job where device_class = ?", DEVICE);
    }

    @Test
    void aHeartbeatKeepsTheJobsVersionAndAProgressReportChangesIt() {
        UUID id = TimeOrderedIds.next();
        jdbc.update("""
                insert into job (id, type, status, spec, device_class, max_attempts)
                values (?, 'test.count', 'queued', '{"steps": 1}'::jsonb, ?, 3)""", id, DEVICE);
        ClaimedJob claimed = queue.claim("heartbeat-worker", DEVICE, Duration.ofSeconds(30)).orElseThrow();
        String running = jobs.etag(id).orElseThrow();
        Object leaseBefore = jdbc.queryForObject("select lease_expires_at from job where id = ?", Object.class, id);

        assertThat(queue.heartbeat(claimed.lease(), Duration.ofMinutes(5))).isEqualTo(JobQueue.LeaseState.HELD);
        assertThat(jdbc.queryForObject("select lease_expires_at from job where id = ?", Object.class, id))
                .as("the lease was renewed").isNotEqualTo(leaseBefore);
        assertThat(jobs.etag(id)).hasValue(running);

        assertThat(queue.updateProgress(claimed.lease(), "{\"step\": 1}")).isTrue();
        assertThat(jobs.etag(id)).hasValueSatisfying(v -> assertThat(v).isNotEqualTo(running));
    }
}
