package dev.consort.worker;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;

import dev.consort.database.TimeOrderedIds;
import dev.consort.support.ApiTest;

/**
 * Claims are fair between tenants (issue 16, item 3): one tenant's high priority orders its own jobs but does
 * not starve another tenant, and a tenant's {@code max_running_jobs} holds its other jobs in the queue. The jobs
 * use a device class of their own so that no worker pool of the application takes them.
 */
class FairClaimTest extends ApiTest {

    private static final String DEVICE = "fairlab";

    @Autowired
    JobQueue queue;

    @AfterEach
    void removeJobs() {
        jdbc.update("delete from job where device_class = ?", DEVICE);
        jdbc.update("delete from tenant_quota where tenant like 'fair-%'");
    }

    private UUID enqueue(String tenant, int priority) {
        UUID id = TimeOrderedIds.next();
        jdbc.update("""
                insert into job (id, type, status, spec, device_class, priority, max_attempts, tenant)
                values (?, ?, 'queued', '{"steps": 1}'::jsonb, ?, ?, 3, ?)""",
                id, CountingTestHandler.TYPE, DEVICE, priority, tenant);
        return id;
    }

    private Optional<ClaimedJob> claim() {
        return queue.claim("fair-worker", DEVICE, Duration.ofMinutes(5));
    }

    private String tenantOf(ClaimedJob job) {
        return jdbc.queryForObject("select tenant from job where id = ?", String.class, job.lease().jobId());
    }

    @Test
    void aTenantSubmittingAtPriority100DoesNotStarveAnotherAtPriority0() {
        for (int i = 0; i < 5; i++) {
            enqueue("fair-loud", 100);
        }
        UUID quiet = enqueue("fair-quiet", 0);

        // One worker: each job is claimed and finished before the next claim.
        List<String> order = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            ClaimedJob job = claim().orElseThrow();
            order.add(tenantOf(job));
            assertThat(queue.finish(job.lease(), "succeeded", null, null, null)).isTrue();
        }
        assertThat(claim()).isEmpty();
        // Priority across all tenants would run the quiet tenant's job last; round-robin runs it second.
        assertThat(order).containsExactly("fair-loud", "fair-quiet", "fair-loud", "fair-loud", "fair-loud", "fair-loud");
        assertThat(jdbc.queryForObject("select status from job where id = ?", String.class, quiet))
                .isEqualTo("succeeded");
    }

    @Test
    void withinATenantPriorityStillOrdersItsJobs() {
        UUID low = enqueue("fair-own", 0);
        UUID high = enqueue("fair-own", 50);
        assertThat(claim().orElseThrow().lease().jobId()).isEqualTo(high);
        assertThat(claim().orElseThrow().lease().jobId()).isEqualTo(low);
    }

    @Test
    void aTenantAtItsRunningLimitWaitsWhileOthersRun() {
        jdbc.update("insert into tenant_quota (tenant, max_running_jobs) values ('fair-capped', 1)");
        enqueue("fair-capped", 0);
        enqueue("fair-capped", 0);
        UUID other = enqueue("fair-free", 0);

        // Every claim this worker can make now: one of the capped tenant's jobs and the other tenant's.
        List<ClaimedJob> claimed = new ArrayList<>();
        for (Optional<ClaimedJob> next = claim(); next.isPresent(); next = claim()) {
            claimed.add(next.get());
        }
        assertThat(claimed).extracting(this::tenantOf).containsExactlyInAnyOrder("fair-capped", "fair-free");
        assertThat(claimed).extracting(job -> job.lease().jobId()).contains(other);
        UUID waiting = jdbc.queryForObject("select id from job where tenant = 'fair-capped' and status = 'queued'",
                UUID.class);

        // Once its running job ends, the capped tenant's other job is claimed.
        ClaimedJob running = claimed.stream().filter(job -> tenantOf(job).equals("fair-capped")).findFirst().orElseThrow();
        assertThat(queue.finish(running.lease(), "succeeded", null, null, null)).isTrue();
        assertThat(claim().orElseThrow().lease().jobId()).isEqualTo(waiting);
    }
}
