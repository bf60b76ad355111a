package dev.consort.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.UUID;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.dao.DataIntegrityViolationException;

import dev.consort.checkpoint.CheckpointCatalog;
import dev.consort.checkpoint.CheckpointProvenance;
import dev.consort.checkpoint.CheckpointUploadService;
import dev.consort.checkpoint.PublishedCheckpoint;
import dev.consort.cka.CkaMatrix;
import dev.consort.cka.CkaResultStore;
import dev.consort.database.TimeOrderedIds;
import dev.consort.job.JobStoppedException;
import dev.consort.job.JobTypes;
import dev.consort.merge.RoutedModelCatalog;
import dev.consort.storage.BlobStore;
import dev.consort.storage.StagedBlob;
import dev.consort.support.ApiTest;
import dev.consort.support.TinyGpt2;
import tools.jackson.databind.json.JsonMapper;

/**
 * Job outputs are fenced by the lease (issue 16, item 5). A worker that was paused past its lease (as by SIGSTOP:
 * it still believes it holds the job) resumes after the job was requeued and finished by another worker: its
 * checkpoint, routed model, CKA matrix and {@code best} writes are all refused, and nothing the winner wrote is
 * added to, replaced or removed. A job also cannot produce two outputs of one name.
 */
class FencedOutputTest extends ApiTest {

    private static final String DEVICE = "fencelab";

    @Autowired
    JobQueue queue;
    @Autowired
    JobTypes handlers;
    @Autowired
    JsonMapper json;
    @Autowired
    JobStateStore states;
    @Autowired
    CheckpointUploadService checkpoints;
    @Autowired
    CheckpointCatalog catalog;
    @Autowired
    RoutedModelCatalog routedModels;
    @Autowired
    CkaResultStore cka;
    @Autowired
    BlobStore blobs;

    private final TinyGpt2 model = new TinyGpt2().seed(11);

    @AfterEach
    void removeJobs() {
        for (UUID routed : jdbc.queryForList("select id from routed_model where producing_job_id in "
                + "(select id from job where device_class = ?)", UUID.class, DEVICE)) {
            routedModels.delete(routed);
        }
        for (UUID checkpoint : jdbc.queryForList("select id from checkpoint where producing_job_id in "
                + "(select id from job where device_class = ?)", UUID.class, DEVICE)) {
            catalog.delete(checkpoint);
        }
        jdbc.update("delete from job where device_class = ?", DEVICE);
    }

    private UUID queuedJob() {
        UUID jobId = TimeOrderedIds.next();
        jdbc.update("""
                insert into job (id, type, status, spec, device_class, max_attempts)
                values (?, 'test.count', 'queued', '{"steps": 1}'::jsonb, ?, 3)""", jobId, DEVICE);
        return jobId;
    }

    private RunningJob claimAs(String owner) {
        ClaimedJob claimed = queue.claim(owner, DEVICE, Duration.ofMinutes(5)).orElseThrow();
        WorkerPool pool = new WorkerPool(owner, new WorkerSettings(List.of(DEVICE + ":0"), Duration.ofMinutes(5),
                Duration.ofMinutes(1), Duration.ofSeconds(1)), queue, handlers, json, states);
        return new RunningJob(claimed, "cpu", queue, json, pool, states);
    }

    private UUID registerCheckpoint(RunningJob job, String name) throws IOException {
        try (StagedBlob staged = blobs.stage(new ByteArrayInputStream(model.weights()));
             PublishedCheckpoint weights = checkpoints.publish(model.config(), staged)) {
            return job.writeOutput(() -> checkpoints.register(weights, name,
                    new CheckpointProvenance(null, job.jobId(), 100L, false))).id();
        }
    }

    private UUID storeRoutedModel(RunningJob job, String name, UUID member) throws IOException {
        return job.writeOutput(() -> routedModels.store(name, "activation_interpolation", "{}", null, member,
                List.of(member, member), job.jobId())).id();
    }

    private static CkaMatrix matrix(double value) {
        return new CkaMatrix(new double[][] {{1, value}, {value, 1}});
    }

    @Test
    void aWorkerPausedPastItsLeaseWritesNothingAndRemovesNothingOfTheWinners() throws IOException {
        UUID jobId = queuedJob();
        RunningJob paused = claimAs("worker-paused");

        // The paused worker's lease runs out; the reaper requeues the job and another worker takes it.
        jdbc.update("update job set lease_expires_at = now() - interval '1 second' where id = ?", jobId);
        assertThat(queue.reapExpiredLeases()).isEqualTo(1);
        RunningJob winner = claimAs("worker-winner");
        UUID checkpoint = registerCheckpoint(winner, "run-step-100");
        UUID routed = storeRoutedModel(winner, "interpolated", checkpoint);
        winner.writeOutput(() -> {
            cka.save(jobId, "inter", matrix(0.5));
            return null;
        });
        assertThat(queue.finish(winner.lease(), "succeeded", null, null, null)).isTrue();

        // The paused worker resumes, unaware: every output write is refused.
        assertThatThrownBy(() -> registerCheckpoint(paused, "run-step-200"))
                .isInstanceOf(JobStoppedException.class)
                .extracting(e -> ((JobStoppedException) e).reason()).isEqualTo(JobStoppedException.Reason.LEASE_LOST);
        assertThatThrownBy(() -> storeRoutedModel(paused, "interpolated", checkpoint))
                .isInstanceOf(JobStoppedException.class);
        assertThatThrownBy(() -> paused.writeOutput(() -> {
            cka.save(jobId, "inter", matrix(0.9));
            return null;
        })).isInstanceOf(JobStoppedException.class);

        assertThat(jdbc.queryForList("select id from checkpoint where producing_job_id = ?", UUID.class, jobId))
                .containsExactly(checkpoint);
        // Storing a routed model of the same name replaces the earlier one: the paused worker would have removed
        // the winner's.
        assertThat(jdbc.queryForList("select id from routed_model where producing_job_id = ?", UUID.class, jobId))
                .containsExactly(routed);
        assertThat(cka.load(jobId).get("inter").get(0, 1)).isEqualTo(0.5);
        assertThat(jdbc.queryForObject("select count(*) from blob_ref where owner_kind = 'checkpoint' and owner_id = ?",
                Long.class, checkpoint)).isEqualTo(1);
    }

    @Test
    void aJobCannotRegisterTwoCheckpointsOfOneName() throws IOException {
        UUID jobId = queuedJob();
        RunningJob job = claimAs("worker-twice");
        UUID first = registerCheckpoint(job, "run-step-100");
        assertThatThrownBy(() -> registerCheckpoint(job, "run-step-100"))
                .isInstanceOf(DataIntegrityViolationException.class);
        assertThat(jdbc.queryForList("select id from checkpoint where producing_job_id = ?", UUID.class, jobId))
                .containsExactly(first);
    }
}
