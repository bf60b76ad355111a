package dev.consort.tenant;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;

import dev.consort.checkpoint.CheckpointProvenance;
import dev.consort.checkpoint.CheckpointUploadService;
import dev.consort.checkpoint.CheckpointView;
import dev.consort.checkpoint.PublishedCheckpoint;
import dev.consort.storage.BlobStore;
import dev.consort.storage.StagedBlob;
import dev.consort.support.Multipart;
import dev.consort.support.TinyGpt2;
import tools.jackson.databind.JsonNode;

/** Each key sees its own tenant's checkpoints, datasets and jobs, and another tenant's ids name nothing. */
class TenantIsolationTest extends TenantApiTest {

    @Autowired
    CheckpointUploadService checkpoints;
    @Autowired
    BlobStore blobs;

    private static String tenant(String name) {
        return name + "-" + UUID.randomUUID().toString().substring(0, 8);
    }

    private String uploadCheckpoint(String key, long seed) {
        TinyGpt2 model = new TinyGpt2().seed(seed);
        HttpResponse<String> created = postAs(key, "/checkpoints", new Multipart()
                .file("config", "config.json", model.config())
                .file("weights", "model.safetensors", model.weights())
                .field("name", "base"));
        assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
        return json(created).path("id").asText();
    }

    private String uploadDataset(String key) {
        HttpResponse<String> created = postAs(key, "/datasets", new Multipart()
                .file("file", "notes.txt", "one record\n\nanother record\n\na third one\n".getBytes(UTF_8)));
        assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
        return json(created).path("id").asText();
    }

    private static List<String> ids(HttpResponse<String> page) {
        assertThat(page.statusCode()).as(page.body()).isEqualTo(200);
        List<String> ids = new ArrayList<>();
        json(page).path("items").forEach(item -> ids.add(item.path("id").asText()));
        return ids;
    }

    @Test
    void anotherTenantCanNeitherListReadDownloadCancelNorDelete() {
        String a = createKey(tenant("a")).secret();
        String b = createKey(tenant("b")).secret();

        String checkpoint = uploadCheckpoint(a, 11);
        String dataset = uploadDataset(a);
        HttpResponse<String> submitted = as(a, HttpRequest.newBuilder(uri("/jobs"))
                .header("Content-Type", "application/json").header("Idempotency-Key", "nightly")
                .POST(HttpRequest.BodyPublishers.ofString(
                        "{\"type\": \"test.count\", \"device\": \"gpu\", \"spec\": {\"steps\": 5}}")));
        assertThat(submitted.statusCode()).as(submitted.body()).isEqualTo(201);
        String job = json(submitted).path("id").asText();

        // Lists: B's are empty, A's hold A's things.
        assertThat(ids(getAs(b, "/checkpoints"))).doesNotContain(checkpoint);
        assertThat(ids(getAs(b, "/datasets"))).doesNotContain(dataset);
        assertThat(ids(getAs(b, "/jobs"))).doesNotContain(job);
        assertThat(ids(getAs(b, "/jobs?status=queued"))).doesNotContain(job);
        assertThat(ids(getAs(a, "/checkpoints"))).contains(checkpoint);
        assertThat(ids(getAs(a, "/datasets"))).contains(dataset);
        assertThat(ids(getAs(a, "/jobs"))).contains(job);

        // Reads and downloads: 404, exactly as for an id that does not exist.
        for (String path : List.of("/checkpoints/" + checkpoint, "/checkpoints/" + checkpoint + "/model.safetensors",
                "/checkpoints/" + checkpoint + "/config.json", "/checkpoints/" + checkpoint + "/archive",
                "/datasets/" + dataset,
                "/datasets/" + dataset + "/tokens/train", "/datasets/" + dataset + "/tokens/validation",
                "/jobs/" + job, "/jobs/" + job + "/events", "/jobs/" + job + "/losses")) {
            assertProblem(getAs(b, path), 404, "not-found");
            assertThat(getAs(a, path).statusCode()).as(path).isEqualTo(200);
        }

        // Text generation: 404 to another tenant. "!" is token 0, within the tiny model's 64-token vocabulary.
        String completion = "{\"prompt\": \"!\", \"max_tokens\": 4, \"temperature\": 0}";
        assertProblem(postJsonAs(b, "/checkpoints/" + checkpoint + "/completions", completion), 404, "not-found");
        assertThat(postJsonAs(a, "/checkpoints/" + checkpoint + "/completions", completion).statusCode()).isEqualTo(200);

        // Cancel and delete: 404, and nothing happened.
        assertProblem(postJsonAs(b, "/jobs/" + job + "/cancel", ""), 404, "not-found");
        assertProblem(deleteAs(b, "/checkpoints/" + checkpoint), 404, "not-found");
        assertProblem(deleteAs(b, "/datasets/" + dataset), 404, "not-found");
        assertThat(json(getAs(a, "/jobs/" + job)).path("status").asText()).isEqualTo("queued");
        assertThat(getAs(a, "/checkpoints/" + checkpoint).statusCode()).isEqualTo(200);
        assertThat(getAs(a, "/datasets/" + dataset).statusCode()).isEqualTo(200);

        // A job's inputs are looked up within the submitter's tenant.
        String finetune = """
                {"type": "finetune", "device": "gpu",
                 "spec": {"base_checkpoint_id": "%s", "dataset_id": "%s", "training": {"steps": 1}}}"""
                .formatted(checkpoint, dataset);
        HttpResponse<String> foreign = postJsonAs(b, "/jobs", finetune);
        assertProblem(foreign, 422, "validation-failed");
        List<String> fields = new ArrayList<>();
        json(foreign).path("errors").forEach(e -> fields.add(e.path("field").asText()));
        assertThat(fields).containsExactly("spec.base_checkpoint_id", "spec.dataset_id");
        // A's own inputs pass the input check: queued, or refused only for want of a finetune handler.
        HttpResponse<String> own = postJsonAs(a, "/jobs", finetune);
        if (own.statusCode() == 201) {
            assertThat(postJsonAs(a, "/jobs/" + json(own).path("id").asText() + "/cancel", "").statusCode()).isEqualTo(202);
        } else {
            assertProblem(own, 422, "unsupported-job-type");
        }

        // Idempotency keys are per tenant: B's "nightly" is a new job, not a conflict with A's.
        HttpResponse<String> bNightly = as(b, HttpRequest.newBuilder(uri("/jobs"))
                .header("Content-Type", "application/json").header("Idempotency-Key", "nightly")
                .POST(HttpRequest.BodyPublishers.ofString(
                        "{\"type\": \"test.count\", \"device\": \"gpu\", \"spec\": {\"steps\": 7}}")));
        assertThat(bNightly.statusCode()).as(bNightly.body()).isEqualTo(201);
        assertThat(json(bNightly).path("id").asText()).isNotEqualTo(job);
        assertThat(ids(getAs(a, "/jobs"))).doesNotContain(json(bNightly).path("id").asText());

        // The owner can do all of it.
        assertThat(postJsonAs(a, "/jobs/" + job + "/cancel", "").statusCode()).isEqualTo(202);
        assertThat(deleteAs(a, "/checkpoints/" + checkpoint).statusCode()).isEqualTo(204);
        assertThat(deleteAs(a, "/datasets/" + dataset).statusCode()).isEqualTo(204);
        assertThat(postJsonAs(b, "/jobs/" + json(bNightly).path("id").asText() + "/cancel", "").statusCode())
                .isEqualTo(202);
    }

    @Test
    void aCheckpointAJobProducesBelongsToTheJobsTenant() throws Exception {
        String a = createKey(tenant("a")).secret();
        String b = createKey(tenant("b")).secret();
        HttpResponse<String> submitted = postJsonAs(a, "/jobs",
                "{\"type\": \"test.count\", \"device\": \"gpu\", \"spec\": {\"steps\": 1}}");
        UUID job = UUID.fromString(json(submitted).path("id").asText());

        // As a worker registers its output: on a thread that serves no request.
        TinyGpt2 model = new TinyGpt2().seed(21);
        CheckpointView produced;
        try (StagedBlob staged = blobs.stage(new ByteArrayInputStream(model.weights()));
             PublishedCheckpoint weights = checkpoints.publish(model.config(), staged)) {
            produced = checkpoints.register(weights, "step-1",
                    new CheckpointProvenance(null, job, 1L, false));
        }

        JsonNode seenByA = json(getAs(a, "/checkpoints/" + produced.id()));
        assertThat(seenByA.path("producing_job_id").asText()).isEqualTo(job.toString());
        assertThat(ids(getAs(a, "/checkpoints"))).contains(produced.id().toString());
        assertProblem(getAs(b, "/checkpoints/" + produced.id()), 404, "not-found");
        assertThat(ids(getAs(b, "/checkpoints"))).doesNotContain(produced.id().toString());
        postJsonAs(a, "/jobs/" + job + "/cancel", "");
    }
}
