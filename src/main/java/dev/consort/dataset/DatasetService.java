package dev.consort.dataset;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.UUID;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.data.domain.Limit;
import org.springframework.http.HttpStatus;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Service;
import org.springframework.transaction.annotation.Transactional;
import org.springframework.transaction.support.TransactionTemplate;

import dev.consort.database.TimeOrderedIds;
import dev.consort.storage.BlobReferences;
import dev.consort.storage.BlobStore;
import dev.consort.storage.PublishedBlob;
import dev.consort.storage.ScratchDirectory;
import dev.consort.storage.StagedBlob;
import dev.consort.storage.StorageUnavailableException;
import dev.consort.tenant.CurrentTenant;
import dev.consort.tenant.TenantQuotas;
import dev.consort.web.ApiProblem;
import dev.consort.web.CursorPage;
import dev.consort.web.ProblemType;

/**
 * Turns uploaded files into datasets. Each file is read twice, always streaming: a first pass checks
 * every record and counts them (so a bad upload is refused before any tokenizing), a second pass
 * tokenizes them into two temporary token files (train, validation) that are then staged and published,
 * and the row and its blob references are stored in one short transaction.
 */
@Service
public class DatasetService {

    private static final Logger log = LoggerFactory.getLogger(DatasetService.class);

    static final String OWNER_KIND = "dataset";
    private static final String TEMP_PREFIX = "dataset-tokens-";

    private final DatasetRepository datasets;
    private final Gpt2Tokenizer tokenizer;
    private final BlobStore blobs;
    private final BlobReferences references;
    private final JdbcTemplate jdbc;
    private final TransactionTemplate transaction;
    private final Path workDir;
    private final TenantQuotas quotas;

    DatasetService(DatasetRepository datasets, Gpt2Tokenizer tokenizer, BlobStore blobs, BlobReferences references,
            JdbcTemplate jdbc, TransactionTemplate transaction, ScratchDirectory scratch, TenantQuotas quotas) {
        this.datasets = datasets;
        this.quotas = quotas;
        this.tokenizer = tokenizer;
        this.blobs = blobs;
        this.references = references;
        this.jdbc = jdbc;
        this.transaction = transaction;
        this.workDir = scratch.path();
    }

    /** Checks, tokenizes and stores an upload; every content problem is a 422 naming the file and line. */
    Dataset create(DatasetUpload upload) throws IOException {
        long started = System.nanoTime();
        RecordReader reader = RecordReader.of(upload.format(), upload.template(), upload.txtMode());
        DatasetSource file = upload.file();
        DatasetSource validationFile = upload.validationFile();

        long records = countRecords(reader, file, upload.format());
        long validationRecords = validationFile != null
                ? countRecords(reader, validationFile, upload.format())
                : validationRecords(records, upload.valFraction());
        long trainRecords = validationFile != null ? records : records - validationRecords;

        Path trainTokens = tempTokenFile();
        Path validationTokens;
        try {
            validationTokens = tempTokenFile();
        } catch (RuntimeException e) {
            Files.deleteIfExists(trainTokens);
            throw e;
        }
        try {
            Tokenized tokenized = tokenize(reader, upload, trainRecords, trainTokens, validationTokens);
            if (tokenized.trainRecords() != trainRecords || tokenized.validationRecords() != validationRecords) {
                throw new IllegalStateException("the upload changed between reading passes");
            }
            // Every record was checked before this point: what is published here is stored (or rolled back).
            try (StagedBlob trainStaged = stage(trainTokens);
                 StagedBlob validationStaged = validationRecords > 0 ? stage(validationTokens) : null;
                 PublishedBlob trainBlob = references.publish(trainStaged);
                 PublishedBlob validationBlob = validationStaged == null ? null : references.publish(validationStaged)) {
                Dataset dataset = new Dataset(TimeOrderedIds.next(), upload.name(), upload.format(),
                        upload.template().source(), upload.valFraction(), upload.txtMode(), file.fileName(),
                        validationFile == null ? null : validationFile.fileName(),
                        trainRecords, new TokenFile(trainBlob.sha256(), tokenized.trainTokens()),
                        validationRecords, validationBlob == null
                                ? TokenFile.EMPTY
                                : new TokenFile(validationBlob.sha256(), tokenized.validationTokens()),
                        upload.sourceBytes(), Instant.now().truncatedTo(ChronoUnit.MICROS), CurrentTenant.orDefault());
                transaction.executeWithoutResult(status -> {
                    quotas.checkStorage(dataset.getTenant(), trainBlob.size() + (validationBlob == null ? 0
                            : validationBlob.size()));
                    datasets.save(dataset);
                    references.attach(trainBlob, OWNER_KIND, dataset.getId(), Split.TRAIN.blobRole());
                    if (validationBlob != null) {
                        references.attach(validationBlob, OWNER_KIND, dataset.getId(), Split.VALIDATION.blobRole());
                    }
                });
                log.info("Dataset {} ({}): {} train records ({} tokens), {} validation records ({} tokens) in {} ms",
                        dataset.getId(), upload.format().wireName(), trainRecords, tokenized.trainTokens(),
                        validationRecords, tokenized.validationTokens(), (System.nanoTime() - started) / 1_000_000);
                return dataset;
            }
        } finally {
            Files.deleteIfExists(trainTokens);
            Files.deleteIfExists(validationTokens);
        }
    }

    /** What the tokenizing pass wrote to the two token files (closed, so complete, when this returns). */
    private record Tokenized(long trainRecords, long trainTokens, long validationRecords, long validationTokens) {}

    private Tokenized tokenize(RecordReader reader, DatasetUpload upload, long trainRecords, Path trainTokens,
            Path validationTokens) throws IOException {
        try (TokenFileWriter train = new TokenFileWriter(trainTokens, tokenizer);
             TokenFileWriter validation = new TokenFileWriter(validationTokens, tokenizer)) {
            if (upload.validationFile() == null) {
                read(reader, upload.file(), new RecordSink.Splitter(trainRecords, train, validation));
            } else {
                read(reader, upload.file(), train);
                read(reader, upload.validationFile(), validation);
            }
            return new Tokenized(train.records(), train.tokens(), validation.records(), validation.tokens());
        }
    }

    /** The dataset, if the current request's tenant may see it (a worker may see any). */
    @Transactional(readOnly = true)
    public Dataset get(UUID id) {
        return datasets.findById(id).filter(d -> CurrentTenant.allows(d.getTenant()))
                .orElseThrow(() -> ApiProblem.notFound("dataset", id));
    }

    @Transactional(readOnly = true)
    CursorPage<DatasetView> list(UUID after, int limit) {
        var rows = datasets.newestFirst(CurrentTenant.get().orElse(null), after, Limit.of(limit + 1));
        return CursorPage.of(rows, limit, DatasetView::of, row -> row.getId().toString());
    }

    /** Deletes a dataset no unfinished job reads; its token files go once nothing else uses them. */
    @Transactional
    void delete(UUID id) {
        Dataset dataset = datasets.findForUpdate(id).filter(d -> CurrentTenant.allows(d.getTenant()))
                .orElseThrow(() -> ApiProblem.notFound("dataset", id));
        List<String> jobs = jdbc.query("""
                select j.id, j.status from job_input i join job j on j.id = i.job_id
                where i.input_id = ? and j.status in ('queued', 'running', 'cancelling')
                order by j.id""",
                (row, n) -> row.getString("id") + " (" + row.getString("status") + ")", id);
        if (!jobs.isEmpty()) {
            throw new ApiProblem(HttpStatus.CONFLICT, ProblemType.IN_USE, "Dataset " + id
                    + " is an input of unfinished jobs " + String.join(", ", jobs)
                    + "; cancel them or wait for them to finish before deleting it",
                    jobs.stream().map(job -> new ApiProblem.FieldError("job", job)).toList());
        }
        datasets.delete(dataset);
        references.detachAll(OWNER_KIND, id);
    }

    /** The records of the last {@code fraction}: none for 0, else at least one and never all of them. */
    static long validationRecords(long records, double fraction) {
        if (fraction == 0) {
            return 0;
        }
        if (records < 2) {
            throw new ApiProblem(HttpStatus.UNPROCESSABLE_CONTENT, ProblemType.INVALID_DATASET,
                    "val_fraction: the file has only 1 record, which cannot be split into training and validation "
                            + "records; set val_fraction=0 or upload a validation_file",
                    List.of(new ApiProblem.FieldError("val_fraction", "needs at least 2 records to split; "
                            + "the file has 1")));
        }
        return Math.min(Math.max(Math.round(records * fraction), 1), records - 1);
    }

    private long countRecords(RecordReader reader, DatasetSource source, DatasetFormat format) throws IOException {
        RecordSink.Counter counter = new RecordSink.Counter();
        read(reader, source, counter);
        if (counter.records() == 0) {
            throw source.invalid("no records found; " + format.whenEmpty());
        }
        return counter.records();
    }

    private static void read(RecordReader reader, DatasetSource source, RecordSink sink) throws IOException {
        try {
            reader.read(source, sink);
        } catch (StrictUtf8Reader.InvalidUtf8Exception e) {
            throw source.invalid("invalid UTF-8 at line " + e.line() + " (byte offset " + e.byteOffset()
                    + "); the file must be UTF-8 text");
        }
    }

    private Path tempTokenFile() {
        try {
            return Files.createTempFile(workDir, TEMP_PREFIX, ".u16");
        } catch (IOException e) {
            throw new StorageUnavailableException("cannot create a temporary token file", e);
        }
    }

    private StagedBlob stage(Path tokens) throws IOException {
        try (InputStream in = Files.newInputStream(tokens)) {
            return blobs.stage(in);
        }
    }
}
