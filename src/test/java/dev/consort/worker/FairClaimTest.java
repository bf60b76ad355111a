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
        UUID first = enqueue("fair-capped", 0);
        UUID second = enqueue("fair-capped", 0);
        UUID other = enqueue("fair-free", 0);

        ClaimedJob running = claim().orElseThrow();
        assertThat(running.lease().jobId()).isEqualTo(first);
        // The capped tenant's second job stays queued while its first runs; the other tenant's job runs.
        assertThat(claim().orElseThrow().lease().jobId()).isEqualTo(other);
        assertThat(claim()).isEmpty();
        assertThat(jdbc.queryForObject("select status from job where id = ?", String.class, second))
                .isEqualTo("queued");

        assertThat(queue.finish(running.lease(), "succeeded", null, null, null)).isTrue();
        assertThat(claim().orElseThrow().lease().jobId()).isEqualTo(second);
    }
}
