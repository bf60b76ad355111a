package dev.consort.dataset;

import java.time.Instant;
import java.util.UUID;

import jakarta.persistence.Column;
import jakarta.persistence.Convert;
import jakarta.persistence.Entity;
import jakarta.persistence.Table;

import dev.consort.database.AssignedIdEntity;
import org.hibernate.annotations.JdbcTypeCode;
import org.hibernate.type.SqlTypes;

/**
 * A tokenized dataset: how it was made (format, template, split) and its two token files, which are
 * blobs referenced as {@code dataset/<id>/train_tokens} and {@code val_tokens}. Immutable once stored.
 */
@Entity
@Table(name = "dataset")
public class Dataset extends AssignedIdEntity {

    private String name;
    @Convert(converter = DatasetFormat.Column.class)
    private DatasetFormat format;
    private String template;
    /** Null when the validation records came from their own file. */
    private Double valFraction;
    /** Null unless the format is txt. */
    @Convert(converter = TxtMode.Column.class)
    private TxtMode txtMode;
    private String fileName;
    private String validationFileName;
    private long trainRecords;
    private long trainTokens;
    @JdbcTypeCode(SqlTypes.CHAR)
    @Column(length = 64)
    private String trainSha256;
    private long valRecords;
    private long valTokens;
    /** Null when the validation split is empty. */
    @JdbcTypeCode(SqlTypes.CHAR)
    @Column(length = 64)
    private String valSha256;
    private long sourceBytes;
    private Instant createdAt;
    /** The tenant whose API keys see it. */
    @Column(nullable = false, updatable = false)
    private String tenant;


    protected Dataset() {
    }

    Dataset(UUID id, String name, DatasetFormat format, String template, Double valFraction, TxtMode txtMode,
            String fileName, String validationFileName, long trainRecords, TokenFile train, long valRecords,
            TokenFile validation, long sourceBytes, Instant createdAt, String tenant) {
        super(id);
        this.name = name;
        this.format = format;
        this.template = template;
        this.valFraction = valFraction;
        this.txtMode = txtMode;
        this.fileName = fileName;
        this.validationFileName = validationFileName;
        this.trainRecords = trainRecords;
        this.trainTokens = train.tokens();
        this.trainSha256 = train.sha256();
        this.valRecords = valRecords;
        this.valTokens = validation.tokens();
        this.valSha256 = validation.sha256();
        this.sourceBytes = sourceBytes;
        this.createdAt = createdAt;
        this.tenant = tenant;
    }




    public String getName() {
        return name;
    }

    public DatasetFormat getFormat() {
        return format;
    }

    public String getTemplate() {
        return template;
    }

    public Double getValFraction() {
        return valFraction;
    }

    public TxtMode getTxtMode() {
        return txtMode;
    }

    public String getFileName() {
        return fileName;
    }

    public String getValidationFileName() {
        return validationFileName;
    }

    public long getTrainRecords() {
        return trainRecords;
    }

    public long getValRecords() {
        return valRecords;
    }

    public long records(Split split) {
        return split == Split.TRAIN ? trainRecords : valRecords;
    }

    /** A split's token file: its blob's sha256 (null when empty) and token count (bytes / 2). */
    public TokenFile tokens(Split split) {
        return split == Split.TRAIN ? new TokenFile(trainSha256, trainTokens) : new TokenFile(valSha256, valTokens);
    }

    public long getSourceBytes() {
        return sourceBytes;
    }

    public Instant getCreatedAt() {
        return createdAt;
    }

    public String getTenant() {
        return tenant;
    }
}
