package dev.consort.web;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.consort.client.ApiClient;
import dev.consort.client.ApiException;
import dev.consort.client.api.CheckpointsApi;
import dev.consort.client.api.DatasetsApi;
import dev.consort.client.api.JobsApi;
import dev.consort.client.model.Checkpoint;
import dev.consort.client.model.Dataset;
import dev.consort.client.model.EvaluateSpec;
import dev.consort.client.model.JobResults;
import dev.consort.client.model.JobSubmission;
import dev.consort.client.model.JobSubmissionSpec;
import dev.consort.client.model.JobView;
import dev.consort.support.ApiTest;
import dev.consort.support.TinyGpt2;

/**
 * The contract as a client sees it: a Java client generated from {@code openapi.yaml} by openapi-generator
 * (at build time, into target/generated-test-sources) compiles, and drives the running service through a
 * short session: upload a checkpoint and a dataset, evaluate, read the job and its results table, and get a
 * typed error for a job that does not exist.
 */
class GeneratedClientTest extends ApiTest {

    private static final Duration TIMEOUT = Duration.ofMinutes(2);

    @TempDir
    Path dir;

    @Test
    void aClientGeneratedFromTheContractDrivesTheService() throws Exception {
        ApiClient client = new ApiClient();
        client.updateBaseUri("http://localhost:" + port);
        CheckpointsApi checkpoints = new CheckpointsApi(client);
        DatasetsApi datasets = new DatasetsApi(client);
        JobsApi jobs = new JobsApi(client);

        TinyGpt2 tiny = new TinyGpt2().vocab(50257).seed(5);
        tiny.nPositions = 32;
        Checkpoint checkpoint = checkpoints.uploadCheckpoint(file("config.json", tiny.config()),
                file("model.safetensors", tiny.weights()), "generated-client");
        assertThat(checkpoint.getName()).isEqualTo("generated-client");
        assertThat(checkpoints.getCheckpoint(checkpoint.getId()).getId()).isEqualTo(checkpoint.getId());
        assertThat(checkpoints.listCheckpoints(null, 100).getItems()).extracting(Checkpoint::getId)
                .contains(checkpoint.getId());

        String text = "A small dataset for a generated client, read as records between blank lines.\n\n".repeat(30);
        // openapi-generator's native client sends every file part, optional or not (it adds a null file and fails),
        // so this session gives the optional validation file too.
        Dataset dataset = datasets.uploadDataset(file("client.txt", text.getBytes(StandardCharsets.UTF_8)), null,
                "client-text", null, null, null, file("client-validation.txt", text.getBytes(StandardCharsets.UTF_8)));
        assertThat(datasets.getDataset(dataset.getId()).getName()).isEqualTo("client-text");

        JobSubmission submission = new JobSubmission().type(JobSubmission.TypeEnum.EVALUATE)
                .spec(new JobSubmissionSpec(new EvaluateSpec().checkpointIds(List.of(checkpoint.getId()))
                        .datasetIds(List.of(dataset.getId())).context(16).maxWindows(4)));
        JobView job = jobs.createJob(submission, null, null, null, null);
        assertThat(job.getStatus()).isEqualTo(JobView.StatusEnum.QUEUED);
        long deadline = System.nanoTime() + TIMEOUT.toNanos();
        while (!List.of(JobView.StatusEnum.SUCCEEDED, JobView.StatusEnum.FAILED).contains(job.getStatus())) {
            assertThat(System.nanoTime()).as("job %s finishes", job.getId()).isLessThan(deadline);
            Thread.sleep(200);
            job = jobs.getJob(job.getId(), null);
        }
        assertThat(job.getStatus()).as(String.valueOf(job.getError())).isEqualTo(JobView.StatusEnum.SUCCEEDED);

        JobResults results = jobs.getJobResults(job.getId());
        assertThat(results.getType()).isEqualTo("evaluate");
        assertThat(results.getRows()).hasSize(1);
        Map<?, ?> row = (Map<?, ?>) results.getRows().get(0);
        assertThat(row.get("checkpoint_id")).isEqualTo(checkpoint.getId().toString());
        assertThat(((Number) row.get("tokens")).longValue()).isEqualTo(4 * 16);
        assertThat(((Number) row.get("loss")).doubleValue()).isPositive();

        UUID missing = UUID.randomUUID();
        assertThatThrownBy(() -> jobs.getJob(missing, null)).isInstanceOfSatisfying(ApiException.class, e -> {
            assertThat(e.getCode()).isEqualTo(404);
            assertThat(e.getResponseBody()).contains(missing.toString());
        });
    }

    private java.io.File file(String name, byte[] content) throws IOException {
        Path path = dir.resolve(name);
        Files.write(path, content);
        return path.toFile();
    }
}
