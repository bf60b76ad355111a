package dev.consort.merge;

import java.util.List;
import java.util.UUID;

import org.springframework.data.domain.Limit;
import org.springframework.http.HttpStatus;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Service;
import org.springframework.transaction.annotation.Transactional;

import dev.consort.database.TimeOrderedIds;
import dev.consort.storage.BlobReferences;
import dev.consort.storage.PublishedBlob;
import dev.consort.storage.StagedBlob;
import dev.consort.tenant.CurrentTenant;
import dev.consort.web.ApiProblem;
import dev.consort.web.CursorPage;
import dev.consort.web.ProblemType;
import tools.jackson.databind.json.JsonMapper;

/** Stores, lists and deletes routed models; their router weights are blobs like any other. */
@Service
public class RoutedModelCatalog {

    static final String OWNER_KIND = "routed_model";
    static final String ROUTER_ROLE = "router";

    private final RoutedModelRepository repository;
    private final BlobReferences blobs;
    private final JdbcTemplate jdbc;
    private final JsonMapper json;

    RoutedModelCatalog(RoutedModelRepository repository, BlobReferences blobs, JdbcTemplate jdbc, JsonMapper json) {
        this.repository = repository;
        this.blobs = blobs;
        this.jdbc = jdbc;
        this.json = json;
    }

    /**
     * Publishes router weights ahead of {@link #store}, outside any transaction (for S3 an upload), so that
     * storing the model is database work only. Close the result once stored.
     */
    public PublishedBlob publish(StagedBlob router) {
        return blobs.publish(router);
    }

    /**
     * Stores a routed model produced by a job. A job that runs again after losing its worker stores its
     * routed models again: the earlier attempt's model of the same name is replaced, so a job has one.
     *
     * @param router the {@link #publish published} router weights, or null for a model without routers (a fixed α)
     */
    @Transactional
    public StoredRoutedModel store(String name, String kind, String descriptionJson, PublishedBlob router, UUID shared,
            List<UUID> experts, UUID producingJobId) {
        // A job's output belongs to the job's tenant: workers serve no request.
        String tenant = jdbc.queryForList("select tenant from job where id = ?", String.class, producingJobId)
                .stream().findFirst().orElseGet(CurrentTenant::orDefault);
        for (UUID earlier : jdbc.queryForList("select id from routed_model where producing_job_id = ? and name = ?",
                UUID.class, producingJobId, name)) {
            blobs.detachAll(OWNER_KIND, earlier);
            repository.deleteById(earlier);
        }
        // Deletes first: Hibernate would otherwise insert before deleting, against the (job, name) unique index.
        repository.flush();
        StoredRoutedModel model = new StoredRoutedModel(TimeOrderedIds.next(), name, kind, descriptionJson,
                router == null ? null : router.sha256(), router == null ? null : router.size(), shared, producingJobId,
                tenant);
        repository.saveAndFlush(model);
        for (int i = 0; i < experts.size(); i++) {
            jdbc.update("insert into routed_model_expert (routed_model_id, position, checkpoint_id) values (?, ?, ?)",
                    model.id(), i, experts.get(i));
        }
        if (router != null) {
            blobs.attach(router, OWNER_KIND, model.id(), ROUTER_ROLE);
        }
        return model;
    }

    @Transactional(readOnly = true)
    public StoredRoutedModel find(UUID id) {
        return repository.findById(id).filter(r -> CurrentTenant.allows(r.tenant()))
                .orElseThrow(() -> ApiProblem.notFound("routed model", id));
    }

    /** The checkpoints whose MLPs the routed model mixes, in router order. */
    @Transactional(readOnly = true)
    public List<UUID> experts(UUID id) {
        return jdbc.queryForList("select checkpoint_id from routed_model_expert where routed_model_id = ? order by position",
                UUID.class, id);
    }

    @Transactional(readOnly = true)
    public RoutedModelView view(UUID id) {
        return view(find(id));
    }

    RoutedModelView view(StoredRoutedModel model) {
        return new RoutedModelView(model.id(), model.name(), model.kind(), experts(model.id()),
                model.sharedCheckpointId(), model.producingJobId(), model.routerSha256(), model.routerBytes(),
                json.readTree(model.descriptionJson()), model.createdAt());
    }

    @Transactional(readOnly = true)
    public CursorPage<RoutedModelView> page(UUID after, int limit) {
        var rows = repository.newestFirst(CurrentTenant.get().orElse(null), after, Limit.of(limit + 1));
        return CursorPage.of(rows, limit, this::view, r -> r.id().toString());
    }

    /** Deletes a routed model unless an unfinished job reads it (its row is locked first, as for checkpoints). */
    @Transactional
    public void delete(UUID id) {
        StoredRoutedModel model = repository.findForUpdate(id).filter(r -> CurrentTenant.allows(r.tenant()))
                .orElseThrow(() -> ApiProblem.notFound("routed model", id));
        List<ApiProblem.FieldError> users = jdbc.query("""
                select distinct j.id, j.status from job_input i join job j on j.id = i.job_id
                where i.input_id = ? and j.status in ('queued', 'running', 'cancelling') order by j.id""",
                (row, n) -> new ApiProblem.FieldError(row.getString("id"), "job is " + row.getString("status")), id);
        if (!users.isEmpty()) {
            throw new ApiProblem(HttpStatus.CONFLICT, ProblemType.IN_USE, "Routed model " + id + " is an input of "
                    + users.size() + " unfinished job(s); cancel them or wait until they finish", users);
        }
        blobs.detachAll(OWNER_KIND, id);
        repository.delete(model);
    }
}
