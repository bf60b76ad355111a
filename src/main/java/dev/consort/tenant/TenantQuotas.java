package dev.consort.tenant;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Service;
import org.springframework.transaction.annotation.Propagation;
import org.springframework.transaction.annotation.Transactional;
import org.springframework.util.unit.DataSize;

import dev.consort.web.ApiProblem;
import dev.consort.web.ByteSizes;
import dev.consort.web.ApiProblem.FieldError;

/**
 * Per-tenant quotas on queued jobs, running jobs and stored bytes (issue 16, item 3): the admin's row in
 * {@code tenant_quota} where there is one, else {@link QuotaProperties}. Queued jobs and stored bytes are checked
 * here, under a transaction-scoped lock of the tenant, so that two concurrent submissions or uploads cannot both
 * take the last unit; running jobs are limited by the queue's claim, which reads the same table.
 */
@Service
public class TenantQuotas {

    /** Seconds after which a refused submission may find a free place in the queue. */
    private static final int QUEUE_RETRY_SECONDS = 30;

    private final JdbcTemplate jdbc;
    private final QuotaProperties defaults;

    TenantQuotas(JdbcTemplate jdbc, QuotaProperties defaults) {
        this.jdbc = jdbc;
        this.defaults = defaults;
    }

    /** The tenant's quotas, the limits in force and its usage. */
    public TenantQuotaView view(String tenant) {
        TenantQuota set = set(tenant);
        return new TenantQuotaView(tenant, set, inForce(set), usage(tenant));
    }

    /** What the admin set for the tenant (all null where nothing). */
    private TenantQuota set(String tenant) {
        return jdbc.query("""
                select max_queued_jobs, max_running_jobs, max_stored_bytes from tenant_quota where tenant = ?""",
                (rs, i) -> new TenantQuota(rs.getObject(1, Integer.class), rs.getObject(2, Integer.class),
                        rs.getObject(3, Long.class)), tenant).stream().findFirst()
                .orElse(new TenantQuota(null, null, null));
    }

    /** Sets the tenant's quotas (a null field: the service's default); a 422 names a value out of range. */
    @Transactional
    public TenantQuotaView set(String tenant, TenantQuota quota) {
        List<FieldError> errors = new ArrayList<>();
        if (tenant == null || !CurrentTenant.NAME.matcher(tenant).matches()) {
            errors.add(new FieldError("tenant", "must be 1 to 64 of a-z, 0-9, '.', '_' and '-', starting with a "
                    + "letter or digit"));
        }
        if (quota.maxQueuedJobs() != null && quota.maxQueuedJobs() < 0) {
            errors.add(new FieldError("max_queued_jobs", "must be at least 0 (or null for the default)"));
        }
        if (quota.maxRunningJobs() != null && quota.maxRunningJobs() < 1) {
            errors.add(new FieldError("max_running_jobs", "must be at least 1 (or null for the default); to stop a "
                    + "tenant's new work set max_queued_jobs to 0"));
        }
        if (quota.maxStoredBytes() != null && quota.maxStoredBytes() < 0) {
            errors.add(new FieldError("max_stored_bytes", "must be at least 0 (or null for the default)"));
        }
        if (!errors.isEmpty()) {
            throw ApiProblem.invalid(errors);
        }
        jdbc.update("""
                insert into tenant_quota (tenant, max_queued_jobs, max_running_jobs, max_stored_bytes) values (?, ?, ?, ?)
                on conflict (tenant) do update set max_queued_jobs = excluded.max_queued_jobs,
                    max_running_jobs = excluded.max_running_jobs, max_stored_bytes = excluded.max_stored_bytes,
                    updated_at = now()""",
                tenant, quota.maxQueuedJobs(), quota.maxRunningJobs(), quota.maxStoredBytes());
        return view(tenant);
    }

    /** Drops the admin's quotas of the tenant: the service's defaults apply again. */
    public void reset(String tenant) {
        jdbc.update("delete from tenant_quota where tenant = ?", tenant);
    }

    /**
     * Refuses (429) a new job when the tenant already has its quota of queued jobs, or keeps at least its quota of
     * bytes. Runs in the transaction that inserts the job and holds the tenant's lock to its end, so two concurrent
     * submissions are counted one after the other.
     */
    @Transactional(propagation = Propagation.MANDATORY)
    public void checkNewJob(String tenant) {
        lock(tenant);
        TenantQuota limit = limits(tenant);
        if (limit.maxQueuedJobs() != null) {
            long queued = count(tenant, "queued");
            if (queued >= limit.maxQueuedJobs()) {
                throw ApiProblem.quotaExceeded("max_queued_jobs", String.format(Locale.ROOT,
                        "tenant '%s' has %d queued jobs, its quota (max_queued_jobs) is %d; wait for some to start, "
                                + "or cancel some", tenant, queued, limit.maxQueuedJobs()), QUEUE_RETRY_SECONDS);
            }
        }
        if (limit.maxStoredBytes() != null) {
            long stored = storedBytes(tenant);
            if (stored >= limit.maxStoredBytes()) {
                throw storageExceeded(tenant, stored, 0, limit.maxStoredBytes());
            }
        }
    }

    /**
     * Refuses (429) storing {@code adding} more bytes for the tenant when that would take it past its quota. Runs
     * in the transaction that stores them, holding the tenant's lock to its end.
     */
    @Transactional(propagation = Propagation.MANDATORY)
    public void checkStorage(String tenant, long adding) {
        lock(tenant);
        Long max = limits(tenant).maxStoredBytes();
        if (max == null) {
            return;
        }
        long stored = storedBytes(tenant);
        if (stored + adding > max) {
            throw storageExceeded(tenant, stored, adding, max);
        }
    }

    private static ApiProblem storageExceeded(String tenant, long stored, long adding, long max) {
        String adds = adding > 0 ? String.format(Locale.ROOT, "; this would add %s", bytes(adding)) : "";
        return ApiProblem.quotaExceeded("max_stored_bytes", String.format(Locale.ROOT,
                "tenant '%s' stores %s of checkpoints, datasets and routed models%s; its quota (max_stored_bytes) is "
                        + "%s. Delete some to make room", tenant, bytes(stored), adds, bytes(max)), null);
    }

    /** The limits in force, without the usage a {@link #view} also counts: each check counts what it needs. */
    private TenantQuota limits(String tenant) {
        return inForce(set(tenant));
    }

    private TenantQuota inForce(TenantQuota set) {
        DataSize stored = defaults.maxStoredBytes();
        return new TenantQuota(set.maxQueuedJobs() != null ? set.maxQueuedJobs() : defaults.maxQueuedJobs(),
                set.maxRunningJobs() != null ? set.maxRunningJobs() : defaults.maxRunningJobs(),
                set.maxStoredBytes() != null ? set.maxStoredBytes() : stored == null ? null : stored.toBytes());
    }

    private TenantQuotaView.Usage usage(String tenant) {
        return new TenantQuotaView.Usage(count(tenant, "queued"), count(tenant, "running", "cancelling"),
                storedBytes(tenant));
    }

    private long count(String tenant, String... statuses) {
        Long n = jdbc.queryForObject("select count(*) from job where tenant = ? and status = any(?)", Long.class,
                tenant, statuses);
        return n == null ? 0 : n;
    }

    /** The bytes of the tenant's checkpoints, datasets and routed models (running jobs' saved states excluded). */
    private long storedBytes(String tenant) {
        Long bytes = jdbc.queryForObject("""
                select coalesce(sum(b.size_bytes), 0) from blob_ref r join blob b on b.sha256 = r.sha256
                where (r.owner_kind = 'checkpoint' and r.owner_id in (select id from checkpoint where tenant = ?))
                   or (r.owner_kind = 'dataset' and r.owner_id in (select id from dataset where tenant = ?))
                   or (r.owner_kind = 'routed_model' and r.owner_id in (select id from routed_model where tenant = ?))""",
                Long.class, tenant, tenant, tenant);
        return bytes == null ? 0 : bytes;
    }

    /** The tenant's quota lock, held to the end of the current transaction. */
    private void lock(String tenant) {
        jdbc.query("select pg_advisory_xact_lock(hashtext('consort.quota.' || ?))", rs -> null, tenant);
    }

    private static String bytes(long n) {
        return String.format(Locale.ROOT, "%s (%,d bytes)", ByteSizes.readable(n), n);
    }
}
