package dev.consort.job;

import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.core.RowMapper;
import org.springframework.stereotype.Repository;

import dev.consort.job.spec.InputRef;
import dev.consort.tenant.CurrentTenant;
import dev.consort.web.ApiProblem;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Jobs, their events and loss points in PostgreSQL. The job table is also the queue, whose writes are
 * fenced SQL statements (the worker's {@code JobQueue}); this repository speaks SQL too so both
 * see the same rows the same way. Reads and cancels see only the current request's tenant
 * ({@link CurrentTenant}); threads that serve no request see every job.
 */
@Repository
public class JobRepository {

    private final JdbcTemplate jdbc;
    private final JsonMapper json;
    private final RowMapper<JobView> jobRow;

    public JobRepository(JdbcTemplate jdbc, JsonMapper json) {
        this.jdbc = jdbc;
        this.json = json;
        this.jobRow = this::mapJob;
    }

    /**
     * A new queued job of {@code tenant} with its spec and its handler's plan, the inputs it reads (which
     * must be the tenant's) and its first event; call inside a transaction.
     */
    public void insert(String tenant, UUID id, String type, String name, String deviceClass, int priority,
            int maxAttempts, String specJson, String planJson, String idempotencyKey, String requestHash,
            List<InputRef> inputs) {
        jdbc.update("""
                insert into job (id, tenant, type, name, status, spec, plan, device_class, priority, max_attempts,
                                 idempotency_key, request_hash)
                values (?, ?, ?, ?, 'queued', ?::jsonb, ?::jsonb, ?, ?, ?, ?, ?)""",
                id, tenant, type, name, specJson, planJson, deviceClass, priority, maxAttempts, idempotencyKey,
                requestHash);
        for (InputRef input : inputs) {
            // Share-lock the input so a concurrent delete (which locks it for update) waits for us, then
            // sees our job_input row and refuses; if it won the race, the input is gone and so is the job.
            if (jdbc.queryForList("select 1 from " + input.kind().table() + " where id = ? and tenant = ? for share",
                    input.id(), tenant).isEmpty()) {
                throw ApiProblem.invalidField("spec." + input.field(), "no " + input.kind().label() + " with id " + input.id());
            }
            jdbc.update("""
                    insert into job_input (job_id, input_kind, input_id) values (?, ?, ?)
                    on conflict do nothing""", id, input.kind().column(), input.id());
        }
        jdbc.update("insert into job_event (job_id, kind, message) values (?, 'queued', ?)", id, "job queued");
    }

    public Optional<JobView> find(UUID id) {
        return find(id, true);
    }

    /** The job; without its result (which can be large) when {@code withResult} is false. */
    public Optional<JobView> find(UUID id, boolean withResult) {
        String tenant = CurrentTenant.get().orElse(null);
        return jdbc.query("select " + (withResult ? "*" : WITHOUT_RESULT) + " from job where id = ? and "
                + "(?::text is null or tenant = ?)", jobRow, id, tenant, tenant).stream().findFirst();
    }

    /**
     * The job view's ETag ({@link JobView#etag}), read without the row's large columns: what a client polling the
     * job sends back in {@code If-None-Match}.
     */
    public Optional<String> etag(UUID id) {
        String tenant = CurrentTenant.get().orElse(null);
        return jdbc.query("select updated_at, status from job where id = ? and (?::text is null or tenant = ?)",
                (rs, i) -> JobView.etag(rs.getObject("updated_at", OffsetDateTime.class), rs.getString("status")),
                id, tenant, tenant).stream().findFirst();
    }

    /** The id and request hash of the tenant's job created with this idempotency key, if any. */
    public Optional<Map.Entry<UUID, String>> findByIdempotencyKey(String tenant, String key) {
        return jdbc.query("select id, request_hash from job where tenant = ? and idempotency_key = ?",
                (rs, i) -> Map.entry(rs.getObject("id", UUID.class), rs.getString("request_hash")), tenant, key)
                .stream().findFirst();
    }

    /** Newest first, up to {@code limit} rows, optionally filtered; without their results. */
    public List<JobView> list(JobStatus status, String type, UUID after, int limit) {
        // Pages leave out the results: a page of finished merges would carry tens of kilobytes each.
        StringBuilder sql = new StringBuilder("select " + WITHOUT_RESULT + " from job where true");
        List<Object> args = new ArrayList<>();
        CurrentTenant.get().ifPresent(tenant -> {
            sql.append(" and tenant = ?");
            args.add(tenant);
        });
        if (status != null) {
            sql.append(" and status = ?");
            args.add(status.value());
        }
        if (type != null) {
            sql.append(" and type = ?");
            args.add(type);
        }
        if (after != null) {
            sql.append(" and id < ?");
            args.add(after);
        }
        sql.append(" order by id desc limit ?");
        args.add(limit);
        return jdbc.query(sql.toString(), jobRow, args.toArray());
    }

    /** Events after the cursor, oldest first. */
    public List<JobEventView> events(UUID jobId, long after, int limit) {
        return jdbc.query("""
                select id, kind, message, data::text as data, created_at from job_event
                where job_id = ? and id > ? order by id limit ?""",
                (rs, i) -> new JobEventView(rs.getLong("id"), rs.getString("kind"), rs.getString("message"),
                        readJson(rs.getString("data")), rs.getObject("created_at", OffsetDateTime.class)),
                jobId, after, limit);
    }

    /** Every point of the job's curves (for the job itself, e.g. resuming; the API thins them). */
    public LossCurves losses(UUID jobId, String series) {
        return losses(jobId, series, Integer.MAX_VALUE);
    }

    /**
     * The job's curves, each thinned in the database to at most {@code maxPoints} (every k-th point, k =
     * ⌈n / (maxPoints − 1)⌉, and the last), so that a ten-million-point curve never reaches the API's heap.
     */
    public LossCurves losses(UUID jobId, String series, int maxPoints) {
        Map<String, List<LossCurves.Point>> bySeries = new LinkedHashMap<>();
        Map<String, Long> totals = new LinkedHashMap<>();
        jdbc.query("""
                select series, step, tokens, value, total from (
                    select series, step, tokens, value,
                           row_number() over (partition by series order by step) - 1 as i,
                           count(*) over (partition by series) as total
                    from loss_point where job_id = ? and (?::text is null or series = ?)) p
                where total <= ? or i = total - 1 or i % ((total + ? - 2) / (? - 1)) = 0
                order by series, step""",
                rs -> {
                    bySeries.computeIfAbsent(rs.getString("series"), s -> new ArrayList<>())
                            .add(new LossCurves.Point(rs.getLong("step"), rs.getLong("tokens"), rs.getDouble("value")));
                    totals.put(rs.getString("series"), rs.getLong("total"));
                }, jobId, series, series, maxPoints, maxPoints, maxPoints);
        return new LossCurves(jobId, bySeries.entrySet().stream()
                .map(e -> new LossCurves.Series(e.getKey(), e.getValue(), totals.get(e.getKey()))).toList());
    }

    /**
     * Asks a job to stop: a queued job is cancelled at once, a running one moves to {@code cancelling}
     * and its worker stops at the next check. Returns the status after the request, or empty if the job
     * is unknown.
     */
    public Optional<JobStatus> requestCancel(UUID id) {
        String tenant = CurrentTenant.get().orElse(null);
        List<String> updated = jdbc.queryForList("""
                update job set
                    status = case when status = 'queued' then 'cancelled' else 'cancelling' end,
                    finished_at = case when status = 'queued' then now() end,
                    cancel_requested = true, updated_at = now()
                where id = ? and status in ('queued', 'running') and (?::text is null or tenant = ?)
                returning status""", String.class, id, tenant, tenant);
        if (!updated.isEmpty()) {
            String status = updated.get(0);
            jdbc.update("insert into job_event (job_id, kind, message) values (?, ?, ?)", id,
                    "cancelled".equals(status) ? "cancelled" : "cancel_requested",
                    "cancelled".equals(status) ? "cancelled before it started" : "cancellation requested");
            return JobStatus.parse(status);
        }
        return jdbc.queryForList("select status from job where id = ? and (?::text is null or tenant = ?)",
                String.class, id, tenant, tenant).stream().findFirst().flatMap(JobStatus::parse);
    }

    /** Every column {@link #mapJob} reads, the result as null. */
    private static final String WITHOUT_RESULT = "id, type, name, status, device_class, priority, spec, attempts, "
            + "max_attempts, cancel_requested, progress, null::text as result, error_code, error_message, created_at, "
            + "started_at, finished_at, updated_at";

    private JobView mapJob(ResultSet rs, int row) throws SQLException {
        String errorCode = rs.getString("error_code");
        return new JobView(
                rs.getObject("id", UUID.class),
                rs.getString("type"),
                rs.getString("name"),
                rs.getString("status"),
                rs.getString("device_class"),
                rs.getInt("priority"),
                readJson(rs.getString("spec")),
                rs.getInt("attempts"),
                rs.getInt("max_attempts"),
                rs.getBoolean("cancel_requested"),
                readJson(rs.getString("progress")),
                readJson(rs.getString("result")),
                errorCode == null ? null : new JobView.JobError(errorCode, rs.getString("error_message")),
                rs.getObject("created_at", OffsetDateTime.class),
                rs.getObject("started_at", OffsetDateTime.class),
                rs.getObject("finished_at", OffsetDateTime.class),
                rs.getObject("updated_at", OffsetDateTime.class));
    }

    private JsonNode readJson(String text) {
        return text == null ? null : json.readTree(text);
    }
}
