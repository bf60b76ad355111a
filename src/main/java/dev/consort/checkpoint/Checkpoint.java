package dev.consort.checkpoint;

import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.UUID;

import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.Table;

import dev.consort.database.AssignedIdEntity;
import org.hibernate.annotations.JdbcTypeCode;
import org.hibernate.type.SqlTypes;

import dev.consort.engine.Gpt2Config;

/**
 * A stored GPT-2 checkpoint: its config.json (exact text), the architecture read from it, and the
 * sha256 of its model.safetensors blob. Immutable once stored; its ids are assigned here (UUIDv7), so
 * {@link AssignedIdEntity} tells Spring Data to insert rather than merge.
 */
@Entity
@Table(name = "checkpoint")
public class Checkpoint extends AssignedIdEntity {


    private String name;

    @Column(name = "config_json", nullable = false)
    private String configJson;

    @Column(name = "n_layer")
    private int nLayer;

    @Column(name = "n_embd")
    private int nEmbd;

    @Column(name = "n_head")
    private int nHead;

    @Column(name = "n_inner")
    private int nInner;

    @Column(name = "vocab_size")
    private int vocabSize;

    @Column(name = "n_positions")
    private int nPositions;

    @Column(name = "parameter_count")
    private long parameterCount;

    private String dtype;

    @JdbcTypeCode(SqlTypes.CHAR)
    @Column(name = "weights_sha256", length = 64, nullable = false)
    private String weightsSha256;

    @Column(name = "weights_bytes")
    private long weightsBytes;

    @Column(name = "parent_id")
    private UUID parentId;

    @Column(name = "producing_job_id")
    private UUID producingJobId;

    @JdbcTypeCode(SqlTypes.ARRAY)
    @Column(name = "merged_from", nullable = false)
    private UUID[] mergedFrom;

    private Long step;

    private boolean best;

    @Column(name = "created_at", nullable = false)
    private Instant createdAt;

    /** The tenant whose API keys see it. */
    @Column(nullable = false, updatable = false)
    private String tenant;


    protected Checkpoint() {}

    Checkpoint(UUID id, String name, String configJson, Gpt2Config config, long parameterCount, String dtype,
            String weightsSha256, long weightsBytes, CheckpointProvenance provenance, String tenant) {
        super(id);
        this.name = name;
        this.configJson = configJson;
        this.nLayer = config.nLayer();
        this.nEmbd = config.nEmbd();
        this.nHead = config.nHead();
        this.nInner = config.nInner();
        this.vocabSize = config.vocabSize();
        this.nPositions = config.nPositions();
        this.parameterCount = parameterCount;
        this.dtype = dtype;
        this.weightsSha256 = weightsSha256;
        this.weightsBytes = weightsBytes;
        this.parentId = provenance.parentId();
        this.producingJobId = provenance.producingJobId();
        this.mergedFrom = provenance.mergedFrom().toArray(UUID[]::new);
        this.step = provenance.step();
        this.best = provenance.best();
        // PostgreSQL keeps microseconds: truncate so the view right after insert equals a later read.
        this.createdAt = Instant.now().truncatedTo(ChronoUnit.MICROS);
        this.tenant = tenant;
    }




    public UUID id() {
        return getId();
    }

    public String name() {
        return name;
    }

    public String configJson() {
        return configJson;
    }

    public int nLayer() {
        return nLayer;
    }

    public int nEmbd() {
        return nEmbd;
    }

    public int nHead() {
        return nHead;
    }

    public int nInner() {
        return nInner;
    }

    public int vocabSize() {
        return vocabSize;
    }

    public int nPositions() {
        return nPositions;
    }

    public long parameterCount() {
        return parameterCount;
    }

    public String dtype() {
        return dtype;
    }

    public String weightsSha256() {
        return weightsSha256;
    }

    public long weightsBytes() {
        return weightsBytes;
    }

    public UUID parentId() {
        return parentId;
    }

    public UUID producingJobId() {
        return producingJobId;
    }

    /** The checkpoints a weight-space merge combined, in expert order; empty for anything else. */
    public List<UUID> mergedFrom() {
        return mergedFrom == null ? List.of() : List.of(mergedFrom);
    }

    public Long step() {
        return step;
    }

    public boolean best() {
        return best;
    }

    public Instant createdAt() {
        return createdAt;
    }

    public String tenant() {
        return tenant;
    }
}
