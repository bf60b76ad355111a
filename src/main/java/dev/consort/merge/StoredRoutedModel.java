package dev.consort.merge;

import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.UUID;

import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.Table;

import org.hibernate.annotations.JdbcTypeCode;
import org.hibernate.type.SqlTypes;

import dev.consort.database.AssignedIdEntity;

/**
 * A stored feature-space merge: how its experts' MLPs are mixed ({@code description_json}, exactly as
 * the routing library wrote it), its router weights blob if it has routers, and the checkpoint whose
 * non-MLP weights it shares. Its experts are rows of {@code routed_model_expert}. Immutable.
 */
@Entity
@Table(name = "routed_model")
public class StoredRoutedModel extends AssignedIdEntity {

    private String name;

    private String kind;

    @Column(name = "description_json", nullable = false)
    private String descriptionJson;

    @JdbcTypeCode(SqlTypes.CHAR)
    @Column(name = "router_sha256", length = 64)
    private String routerSha256;

    @Column(name = "router_bytes")
    private Long routerBytes;

    @Column(name = "shared_checkpoint_id", nullable = false)
    private UUID sharedCheckpointId;

    @Column(name = "producing_job_id")
    private UUID producingJobId;

    @Column(nullable = false)
    private String tenant;

    @Column(name = "created_at", nullable = false)
    private Instant createdAt;

    protected StoredRoutedModel() {}

    StoredRoutedModel(UUID id, String name, String kind, String descriptionJson, String routerSha256, Long routerBytes,
            UUID sharedCheckpointId, UUID producingJobId, String tenant) {
        super(id);
        this.name = name;
        this.kind = kind;
        this.descriptionJson = descriptionJson;
        this.routerSha256 = routerSha256;
        this.routerBytes = routerBytes;
        this.sharedCheckpointId = sharedCheckpointId;
        this.producingJobId = producingJobId;
        this.tenant = tenant;
        this.createdAt = Instant.now().truncatedTo(ChronoUnit.MICROS);
    }

    public UUID id() {
        return getId();
    }

    public String name() {
        return name;
    }

    public String kind() {
        return kind;
    }

    public String descriptionJson() {
        return descriptionJson;
    }

    public String routerSha256() {
        return routerSha256;
    }

    public Long routerBytes() {
        return routerBytes;
    }

    public UUID sharedCheckpointId() {
        return sharedCheckpointId;
    }

    public UUID producingJobId() {
        return producingJobId;
    }

    public String tenant() {
        return tenant;
    }

    public Instant createdAt() {
        return createdAt;
    }
}
