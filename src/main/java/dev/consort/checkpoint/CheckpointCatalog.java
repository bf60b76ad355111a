package dev.consort.checkpoint;

import java.util.List;
import java.util.Optional;
import java.util.UUID;

import org.springframework.data.domain.Limit;
import org.springframework.http.HttpStatus;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Service;
import org.springframework.transaction.annotation.Transactional;

import dev.consort.checkpoint.CheckpointValidator.ValidCheckpoint;
import dev.consort.database.TimeOrderedIds;
import dev.consort.storage.BlobReferences;
import dev.consort.storage.PublishedBlob;
import dev.consort.tenant.CurrentTenant;
import dev.consort.tenant.TenantQuotas;
import dev.consort.web.ApiProblem;
import dev.consort.web.CursorPage;
import dev.consort.web.ProblemType;

/**
 * The stored checkpoints: rows in {@code checkpoint}, each owning its model.safetensors blob (owner
 * kind {@value #OWNER_KIND}, role {@value #WEIGHTS_ROLE}).
 */
@Service
public class CheckpointCatalog {

    static final String OWNER_KIND = "checkpoint";
    static final String WEIGHTS_ROLE = "weights";

    private final CheckpointRepository repository;
    private final BlobReferences blobs;
    private final JdbcTemplate jdbc;
    private final TenantQuotas quotas;

    CheckpointCatalog(CheckpointRepository repository, BlobReferences blobs, JdbcTemplate jdbc, TenantQuotas quotas) {
        this.repository = repository;
        this.quotas = quotas;
        this.blobs = blobs;
        this.jdbc = jdbc;
    }

    /** Stores a validated checkpoint whose weights are already published: database work only, all or nothing. */
    @Transactional
    Checkpoint store(ValidCheckpoint valid, PublishedBlob weights, String name, CheckpointProvenance provenance) {
        if (provenance.parentId() != null
                && repository.findById(provenance.parentId()).filter(c -> CurrentTenant.allows(c.tenant())).isEmpty()) {
            throw ApiProblem.invalidField("parent_id", "no checkpoint with id " + provenance.parentId());
        }
        for (int i = 0; i < provenance.mergedFrom().size(); i++) {
            UUID source = provenance.mergedFrom().get(i);
            if (repository.findById(source).filter(c -> CurrentTenant.allows(c.tenant())).isEmpty()) {
                throw ApiProblem.invalidField("merged_from[" + i + "]", "no checkpoint with id " + source);
            }
        }
        String tenant = tenantFor(provenance);
        if (provenance.producingJobId() == null) {
            // Uploads count against the tenant's storage quota; a job's outputs were admitted with the job.
            quotas.checkStorage(tenant, weights.size());
        }
        Checkpoint checkpoint = new Checkpoint(TimeOrderedIds.next(), name, valid.config().json(),
                valid.config().config(), valid.weights().parameterCount(), valid.dtype(), weights.sha256(),
                weights.size(), provenance, tenant);
        repository.saveAndFlush(checkpoint);
        blobs.attach(weights, OWNER_KIND, checkpoint.id(), WEIGHTS_ROLE);
        return checkpoint;
    }

    /** A job's output belongs to the job's tenant (workers serve no request); an upload to the uploader's. */
    private String tenantFor(CheckpointProvenance provenance) {
        if (provenance.producingJobId() != null) {
            List<String> tenant = jdbc.queryForList("select tenant from job where id = ?", String.class,
                    provenance.producingJobId());
            if (!tenant.isEmpty()) {
                return tenant.get(0);
            }
        }
        return CurrentTenant.orDefault();
    }

    /** The checkpoint, if the current request's tenant may see it (a worker may see any). */
    @Transactional(readOnly = true)
    public Checkpoint find(UUID id) {
        return repository.findById(id).filter(c -> CurrentTenant.allows(c.tenant()))
                .orElseThrow(() -> ApiProblem.notFound("checkpoint", id));
    }

    /** Newest first; {@code after} is the last id of the previous page. */
    @Transactional(readOnly = true)
    public CursorPage<CheckpointView> page(UUID after, int limit) {
        var rows = repository.newestFirst(CurrentTenant.get().orElse(null), after, Limit.of(limit + 1));
        return CursorPage.of(rows, limit, CheckpointView::of, c -> c.id().toString());
    }

    /**
     * Deletes a checkpoint unless an unfinished job reads it. Its row is locked first; a job that
     * records a checkpoint as input should lock the same row ({@code for share}) so the two cannot race.
     */
    @Transactional
    public void delete(UUID id) {
        Checkpoint checkpoint = repository.findForUpdate(id).filter(c -> CurrentTenant.allows(c.tenant()))
                .orElseThrow(() -> ApiProblem.notFound("checkpoint", id));
        List<ApiProblem.FieldError> users = jdbc.query("""
                select distinct j.id, j.status from job_input i join job j on j.id = i.job_id
                where i.input_id = ? and j.status in ('queued', 'running', 'cancelling')
                order by j.id""",
                (row, n) -> new ApiProblem.FieldError(row.getString("id"), "job is " + row.getString("status")),
                id);
        if (!users.isEmpty()) {
            throw new ApiProblem(HttpStatus.CONFLICT, ProblemType.IN_USE, "Checkpoint " + id + " is an input of "
                    + users.size() + " unfinished job(s) "
                    + users.stream().map(ApiProblem.FieldError::field).toList()
                    + "; cancel them or wait until they finish", users);
        }
        List<String> routedModels = jdbc.queryForList("""
                select distinct routed_model_id::text from routed_model_expert where checkpoint_id = ?
                union select id::text from routed_model where shared_checkpoint_id = ?""", String.class, id, id);
        if (!routedModels.isEmpty()) {
            throw new ApiProblem(HttpStatus.CONFLICT, ProblemType.IN_USE, "Checkpoint " + id + " is part of "
                    + routedModels.size() + " routed model(s) " + routedModels + "; delete them first",
                    routedModels.stream().map(r -> new ApiProblem.FieldError(r, "routed model uses it")).toList());
        }
        // Merges made from it keep existing and no longer name it, as children lose their parent_id.
        jdbc.update("update checkpoint set merged_from = array_remove(merged_from, ?) where merged_from @> array[?]",
                id, id);
        blobs.detachAll(OWNER_KIND, id);
        repository.delete(checkpoint);
    }

    /** The checkpoint {@code jobId} saved at {@code step}, if any. */
    @Transactional(readOnly = true)
    public Optional<Checkpoint> findProduced(UUID jobId, long step) {
        return repository.findFirstByProducingJobIdAndStep(jobId, step);
    }

    /** The ids of the current tenant's checkpoints called {@code name}. */
    @Transactional(readOnly = true)
    public List<UUID> idsNamed(String name) {
        String tenant = CurrentTenant.orDefault();
        return jdbc.queryForList("select id from checkpoint where name = ? and tenant = ? order by id", UUID.class,
                name, tenant);
    }

    /** The checkpoint {@code jobId} registered under {@code name}, if any (a re-run attempt reuses it). */
    @Transactional(readOnly = true)
    public Optional<UUID> findProducedNamed(UUID jobId, String name) {
        return jdbc.queryForList("select id from checkpoint where producing_job_id = ? and name = ? order by id limit 1",
                UUID.class, jobId, name).stream().findFirst();
    }

    /** The checkpoints {@code jobId} produced, by step. */
    @Transactional(readOnly = true)
    public List<Checkpoint> produced(UUID jobId) {
        return repository.findByProducingJobIdOrderByStep(jobId);
    }

    /**
     * Marks {@code best} as the best of the checkpoints the job produced whose names start with {@code prefix} (one
     * training run's: a job may train several), and unmarks the run's others.
     */
    public void markBest(UUID jobId, String prefix, UUID best) {
        jdbc.update("update checkpoint set best = (id = ?) where producing_job_id = ? and starts_with(name, ?)", best,
                jobId, prefix);
    }
}
