package dev.consort.worker;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;
import org.springframework.transaction.support.TransactionTemplate;

import dev.consort.metrics.JobMetrics;

/**
 * The {@code job} table used as a queue. Claims take a queued job fairly between tenants (see {@link #claim})
 * with {@code FOR UPDATE SKIP LOCKED} in one short statement; every later write names the lease owner
 * in its WHERE clause, so a worker whose lease expired (and whose job another worker now runs) cannot
 * change anything. Times are the database's {@code now()}, so workers' clocks never disagree. Hand-written
 * rather than a queue library because the job row must be the queue: its lease fences every output a job
 * writes in the same database, which a separate broker cannot do.
 */
@Component
public class JobQueue {

    private static final Logger log = LoggerFactory.getLogger(JobQueue.class);

    /** What a heartbeat learns: whether we still own the job and whether cancel was asked for. */
    public enum LeaseState { HELD, CANCEL_REQUESTED, LOST }

    private final JdbcTemplate jdbc;
    private final TransactionTemplate tx;
    private final JobMetrics metrics;
    /** {@code consort.quotas.max-running-jobs}: a tenant's running limit where the admin set none (null: none). */
    private final Integer defaultMaxRunning;

    public JobQueue(JdbcTemplate jdbc, TransactionTemplate tx, JobMetrics metrics,
            @Value("${consort.quotas.max-running-jobs:#{null}}") Integer defaultMaxRunning) {
        this.jdbc = jdbc;
        this.defaultMaxRunning = defaultMaxRunning;
        this.tx = tx;
        this.metrics = metrics;
    }

    /**
     * Claims the next queued job runnable on {@code deviceClass} (jobs asking for {@code any} included), fairly
     * between tenants: a tenant at its {@code max_running_jobs} is passed over; among the others, the one with the
     * fewest jobs running goes first, then the one served longest ago (round-robin), and only then, within that
     * tenant, priority and age. So one tenant's priority 100 orders its own jobs but never starves another's.
     * Claims are serialised by a transaction-scoped lock (a few milliseconds each), so two workers cannot both
     * see a tenant below its running limit and both take it past.
     */
    public Optional<ClaimedJob> claim(String owner, String deviceClass, Duration lease) {
        List<ClaimedJob> claimed = tx.execute(t -> {
            jdbc.query("select pg_advisory_xact_lock(hashtext('consort.claim'))", rs -> null);
            return jdbc.query("""
                    with tenants as (
                        select w.tenant,
                               (select count(*) from job r
                                where r.tenant = w.tenant and r.status in ('running', 'cancelling')) as running,
                               (select max(c.claimed_at) from job c where c.tenant = w.tenant) as last_claimed,
                               coalesce(q.max_running_jobs, ?::int) as max_running
                        from (select distinct tenant from job
                              where status = 'queued' and device_class in (?, 'any')) w
                        left join tenant_quota q on q.tenant = w.tenant),
                    next as (
                        select j.id from job j join tenants t on t.tenant = j.tenant
                        where j.status = 'queued' and j.device_class in (?, 'any')
                          and (t.max_running is null or t.running < t.max_running)
                        order by t.running, t.last_claimed nulls first, j.priority desc, j.id
                        limit 1
                        for update of j skip locked)
                    update job j set status = 'running', lease_owner = ?,
                           lease_expires_at = now() + make_interval(secs => ?), claimed_at = clock_timestamp(),
                           attempts = j.attempts + 1, started_at = coalesce(j.started_at, now()), updated_at = now()
                    from next where j.id = next.id
                    returning j.id, j.type, j.spec::text as spec, j.plan::text as plan, j.attempts, j.max_attempts""",
                    (rs, i) -> new ClaimedJob(new Lease(rs.getObject("id", UUID.class), owner), rs.getString("type"),
                            rs.getString("spec"), rs.getString("plan"), rs.getInt("attempts"),
                            rs.getInt("max_attempts")),
                    defaultMaxRunning, deviceClass, deviceClass, owner, seconds(lease));
        });
        return claimed == null ? Optional.empty() : claimed.stream().findFirst();
    }

    /**
     * Renews the lease; tells the worker whether it still holds the job and whether cancel was asked for. It leaves
     * {@code updated_at} alone: the job's view does not change, so a client polling with its ETag keeps getting 304.
     */
    public LeaseState heartbeat(Lease lease, Duration duration) {
        List<String> status = jdbc.queryForList("""
                update job set lease_expires_at = now() + make_interval(secs => ?)
                where id = ? and lease_owner = ? and status in ('running', 'cancelling')
                returning status""", String.class, seconds(duration), lease.jobId(), lease.owner());
        if (status.isEmpty()) {
            return LeaseState.LOST;
        }
        return "cancelling".equals(status.get(0)) ? LeaseState.CANCEL_REQUESTED : LeaseState.HELD;
    }

    /**
     * Runs {@code write} in a transaction that holds the job's row {@code FOR SHARE} while {@code lease} owns it, so
     * neither the reaper nor another worker's claim can take the job until it commits; false, with nothing
     * written, if the lease no longer holds it.
     */
    public boolean whileLeaseHeld(Lease lease, Runnable write) {
        return Boolean.TRUE.equals(tx.execute(t -> {
            if (jdbc.queryForList("""
                    select 1 from job where id = ? and lease_owner = ? and status in ('running', 'cancelling')
                    for share""", Integer.class, lease.jobId(), lease.owner()).isEmpty()) {
                return false;
            }
            write.run();
            return true;
        }));
    }

    /** Appends an event if {@code lease} still holds the job; false if it does not. */
    public boolean appendEvent(Lease lease, String kind, String message, String dataJson) {
        return jdbc.update("""
                insert into job_event (job_id, kind, message, data)
                select ?, ?, ?, ?::jsonb
                where exists (select 1 from job where id = ? and lease_owner = ?)""",
                lease.jobId(), kind, message, dataJson, lease.jobId(), lease.owner()) == 1;
    }

    public boolean updateProgress(Lease lease, String progressJson) {
        return jdbc.update("update job set progress = ?::jsonb, updated_at = now() where id = ? and lease_owner = ?",
                progressJson, lease.jobId(), lease.owner()) == 1;
    }

    /** Records a loss point; a step written again (after a resume) replaces the earlier value. */
    public boolean recordLoss(Lease lease, String series, long step, long tokens, double value) {
        return jdbc.update("""
                insert into loss_point (job_id, series, step, tokens, value)
                select ?, ?, ?, ?, ?
                where exists (select 1 from job where id = ? and lease_owner = ?)
                on conflict (job_id, series, step) do update set tokens = excluded.tokens, value = excluded.value""",
                lease.jobId(), series, step, tokens, value, lease.jobId(), lease.owner()) == 1;
    }

    /** Ends the job in a terminal state and releases the lease, with a closing event; false if the lease was lost. */
    public boolean finish(Lease lease, String status, String resultJson, String errorCode, String errorMessage) {
        List<Map.Entry<String, Duration>> finished = tx.execute(t -> {
            List<Map.Entry<String, Duration>> updated = jdbc.query("""
                    update job set status = ?, result = ?::jsonb, error_code = ?, error_message = ?,
                           lease_owner = null, lease_expires_at = null, finished_at = now(), updated_at = now()
                    where id = ? and lease_owner = ? and status in ('running', 'cancelling')
                    returning type, extract(epoch from now() - started_at) as seconds""",
                    (rs, i) -> Map.entry(rs.getString("type"), Duration.ofNanos((long) (rs.getDouble("seconds") * 1e9))),
                    status, resultJson, errorCode, errorMessage, lease.jobId(), lease.owner());
            if (updated.size() == 1) {
                jdbc.update("insert into job_event (job_id, kind, message) values (?, ?, ?)", lease.jobId(), status,
                        errorMessage == null ? "job " + status : errorMessage);
            }
            return updated;
        });
        if (finished == null || finished.isEmpty()) {
            return false;
        }
        metrics.jobFinished(finished.get(0).getKey(), status, finished.get(0).getValue());
        return true;
    }

    /** Puts a job we hold back in the queue without counting the attempt (the worker is shutting down). */
    public boolean release(Lease lease, String reason) {
        Boolean done = tx.execute(t -> {
            int updated = jdbc.update("""
                    update job set status = case when status = 'cancelling' then 'cancelled' else 'queued' end,
                           finished_at = case when status = 'cancelling' then now() end,
                           attempts = greatest(attempts - 1, 0), lease_owner = null, lease_expires_at = null,
                           updated_at = now()
                    where id = ? and lease_owner = ? and status in ('running', 'cancelling')""",
                    lease.jobId(), lease.owner());
            if (updated == 1) {
                jdbc.update("insert into job_event (job_id, kind, message) values (?, 'released', ?)", lease.jobId(), reason);
            }
            return updated == 1;
        });
        return Boolean.TRUE.equals(done);
    }

    /**
     * Requeues jobs whose lease expired (their worker died or hung), fails those that used up their
     * attempts, and finishes the cancellation of those that were being cancelled.
     *
     * @return how many jobs were touched
     */
    public int reapExpiredLeases() {
        List<String[]> reaped = tx.execute(t -> {
            List<String[]> rows = jdbc.query("""
                    update job set
                        status = case when status = 'cancelling' then 'cancelled'
                                      when attempts >= max_attempts then 'failed'
                                      else 'queued' end,
                        error_code = case when status <> 'cancelling' and attempts >= max_attempts
                                          then 'lease_expired' end,
                        error_message = case when status <> 'cancelling' and attempts >= max_attempts
                                             then 'the worker stopped renewing its lease ' || attempts || ' times; giving up' end,
                        finished_at = case when status = 'cancelling' or attempts >= max_attempts then now() end,
                        lease_owner = null, lease_expires_at = null, updated_at = now()
                    where status in ('running', 'cancelling') and lease_expires_at < now()
                    returning id::text, status""",
                    (rs, i) -> new String[] {rs.getString(1), rs.getString(2)});
            for (String[] row : rows) {
                String message = switch (row[1]) {
                    case "queued" -> "lease expired; requeued";
                    case "cancelled" -> "lease expired while cancelling; cancelled";
                    default -> "lease expired; no attempts left";
                };
                jdbc.update("insert into job_event (job_id, kind, message) values (?::uuid, ?, ?)", row[0],
                        "queued".equals(row[1]) ? "requeued" : row[1], message);
            }
            return rows;
        });
        int count = reaped == null ? 0 : reaped.size();
        if (count > 0) {
            reaped.forEach(row -> metrics.leaseExpired("queued".equals(row[1]) ? "requeued" : row[1], 1));
            log.info("Lease reaper handled {} expired job(s)", count);
        }
        return count;
    }

    private static double seconds(Duration duration) {
        return duration.toMillis() / 1000.0;
    }
}
