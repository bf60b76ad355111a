package dev.consort.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.UUID;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.springframework.beans.factory.annotation.Autowired;

import tools.jackson.databind.JsonNode;

import dev.consort.storage.BlobStore;
import dev.consort.storage.StagedBlob;
import dev.consort.support.ApiTest;
import dev.consort.support.Multipart;
import dev.consort.support.TestDatabase;
import dev.consort.support.TinyGpt2;
import dev.consort.web.ApiProblem;

class CheckpointApiTest extends ApiTest {

    @Autowired
    CheckpointUploadService uploads;

    @Autowired
    BlobStore blobStore;

    static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    static Path blobFile(String sha) {
        return TestDatabase.dataDir().resolve("blobs/sha256").resolve(sha.substring(0, 2)).resolve(sha);
    }

    HttpResponse<String> upload(TinyGpt2 model) {
        return upload(model.config(), model.weights(), null);
    }

    HttpResponse<String> upload(byte[] config, byte[] weights, String name) {
        Multipart form = new Multipart().file("config", "config.json", config)
                .file("weights", "model.safetensors", weights);
        if (name != null) {
            form.field("name", name);
        }
        return post("/checkpoints", form);
    }

    JsonNode created(TinyGpt2 model) {
        HttpResponse<String> response = upload(model);
        assertThat(response.statusCode()).as(response.body()).isEqualTo(201);
        return json(response);
    }

    @Test
    void uploadThenDownloadIsByteIdentical() {
        TinyGpt2 model = new TinyGpt2().vocab(50257).seed(42);
        byte[] config = model.config();
        byte[] weights = model.weights();

        HttpResponse<String> response = upload(config, weights, "base — gpt2 tiny");
        assertThat(response.statusCode()).as(response.body()).isEqualTo(201);
        JsonNode body = json(response);
        String id = body.path("id").asText();
        assertThat(response.headers().firstValue("Location")).hasValue("/checkpoints/" + id);
        assertThat(body.path("name").asText()).isEqualTo("base — gpt2 tiny");
        assertThat(body.path("sha256").asText()).isEqualTo(sha256(weights));
        assertThat(body.path("bytes").asLong()).isEqualTo(weights.length);
        assertThat(body.path("dtype").asText()).isEqualTo("F32");
        assertThat(body.path("parameter_count").asLong()).isEqualTo(model.parameterCount());
        assertThat(body.path("config").path("n_layer").asInt()).isEqualTo(2);
        assertThat(body.path("config").path("n_embd").asInt()).isEqualTo(8);
        assertThat(body.path("config").path("n_head").asInt()).isEqualTo(2);
        assertThat(body.path("config").path("n_inner").asInt()).isEqualTo(32);
        assertThat(body.path("config").path("vocab_size").asInt()).isEqualTo(50257);
        assertThat(body.path("config").path("n_positions").asInt()).isEqualTo(16);
        assertThat(body.path("created_at").asText()).isNotBlank();
        assertThat(body.path("best").asBoolean()).isFalse();
        assertThat(body.has("parent_id")).isFalse();
        assertThat(body.has("producing_job_id")).isFalse();
        assertThat(blobFile(sha256(weights))).exists();

        HttpResponse<byte[]> download = getBytes("/checkpoints/" + id + "/model.safetensors");
        assertThat(download.statusCode()).isEqualTo(200);
        assertThat(download.body()).isEqualTo(weights);
        assertThat(download.headers().firstValue("Content-Type")).hasValue("application/octet-stream");
        assertThat(download.headers().firstValueAsLong("Content-Length")).hasValue(weights.length);
        assertThat(download.headers().firstValue("Content-Disposition")).hasValueSatisfying(
                d -> assertThat(d).startsWith("attachment").contains("filename=\"model.safetensors\""));
        assertThat(download.headers().firstValue("ETag")).hasValue("\"" + sha256(weights) + "\"");

        HttpResponse<byte[]> configDownload = getBytes("/checkpoints/" + id + "/config.json");
        assertThat(configDownload.statusCode()).isEqualTo(200);
        assertThat(configDownload.body()).isEqualTo(config);
        assertThat(configDownload.headers().firstValue("Content-Type")).hasValueSatisfying(
                ct -> assertThat(ct).startsWith("application/json"));

        assertThat(json(get("/checkpoints/" + id))).isEqualTo(body);
    }

    /** A name is a label: one that looks like a path is stored as given and names no file anywhere. */
    @Test
    void aNameWithDotDotSlashIsAcceptedAsADisplayNameAndWritesNoFileThere() {
        String escape = "consort-escape-" + java.util.UUID.randomUUID();
        String name = "../../../../../../tmp/" + escape;
        HttpResponse<String> response = upload(new TinyGpt2().seed(515).config(), new TinyGpt2().seed(515).weights(), name);

        assertThat(response.statusCode()).as(response.body()).isEqualTo(201);
        assertThat(json(response).path("name").asText()).isEqualTo(name);
        assertThat(json(get("/checkpoints/" + json(response).path("id").asText())).path("name").asText()).isEqualTo(name);
        assertThat(Path.of("/tmp", escape)).doesNotExist();
        assertThat(TestDatabase.dataDir().resolve("blobs").resolve(name).normalize()).doesNotExist();
        assertThat(blobFile(sha256(new TinyGpt2().seed(515).weights()))).exists();
    }

    @Test
    void downloadsAnswerConditionalAndRangeRequests() {
        TinyGpt2 model = new TinyGpt2().seed(7);
        byte[] weights = model.weights();
        String id = created(model).path("id").asText();
        String etag = "\"" + sha256(weights) + "\"";

        HttpResponse<String> notModified = send(HttpRequest.newBuilder(uri("/checkpoints/" + id + "/model.safetensors"))
                .header("If-None-Match", etag).GET());
        assertThat(notModified.statusCode()).isEqualTo(304);

        HttpResponse<String> range = send(HttpRequest.newBuilder(uri("/checkpoints/" + id + "/model.safetensors"))
                .header("Range", "bytes=0-7").GET());
        assertThat(range.statusCode()).isEqualTo(206);
        assertThat(range.headers().firstValue("Content-Range")).hasValue("bytes 0-7/" + weights.length);
    }

    @Test
    void listsNewestFirstWithCursorPagination() {
        String first = created(new TinyGpt2().seed(101)).path("id").asText();
        String second = created(new TinyGpt2().seed(102)).path("id").asText();
        String third = created(new TinyGpt2().seed(103)).path("id").asText();

        JsonNode page = json(get("/checkpoints?limit=2"));
        assertThat(page.path("items")).hasSize(2);
        assertThat(page.path("items").get(0).path("id").asText()).isEqualTo(third);
        assertThat(page.path("items").get(1).path("id").asText()).isEqualTo(second);
        assertThat(page.path("has_more").asBoolean()).isTrue();
        assertThat(page.path("next_after").asText()).isEqualTo(second);
        assertThat(page.path("items").get(0).path("sha256").asText()).hasSize(64);

        JsonNode next = json(get("/checkpoints?limit=2&after=" + second));
        assertThat(next.path("items").get(0).path("id").asText()).isEqualTo(first);

        JsonNode oneAfterFirst = json(get("/checkpoints?limit=500&after=" + third));
        assertThat(oneAfterFirst.path("items").findValuesAsString("id")).contains(second, first).doesNotContain(third);

        assertThat(get("/checkpoints?limit=0").statusCode()).isEqualTo(400);
        assertThat(get("/checkpoints?after=nope").statusCode()).isEqualTo(400);
    }

    @Test
    void acceptsBareNamesLmHeadAndAttentionBuffers() {
        TinyGpt2 bare = new TinyGpt2().bare().withLmHead().withAttentionBuffers().seed(5);
        JsonNode body = created(bare);
        assertThat(body.path("parameter_count").asLong()).isEqualTo(bare.parameterCount());
        assertThat(new TinyGpt2().withLmHead().parameterCount() - new TinyGpt2().parameterCount()).isEqualTo(64 * 8);

        TinyGpt2 prefixed = new TinyGpt2().withAttentionBuffers().seed(6);
        assertThat(created(prefixed).path("parameter_count").asLong()).isEqualTo(new TinyGpt2().parameterCount());
    }

    @ParameterizedTest
    @ValueSource(strings = {"F16", "BF16", "F64"})
    void acceptsEveryFloatDtype(String dtype) {
        TinyGpt2 model = new TinyGpt2().dtype(dtype).seed(dtype.hashCode());
        JsonNode body = created(model);
        assertThat(body.path("dtype").asText()).isEqualTo(dtype);
        String id = body.path("id").asText();
        assertThat(getBytes("/checkpoints/" + id + "/model.safetensors").body()).isEqualTo(model.weights());
    }

    @Test
    void reportsMixedDtypes() {
        assertThat(created(new TinyGpt2().tensorDtype("ln_f.bias", "F64").seed(9)).path("dtype").asText())
                .isEqualTo("mixed");
    }

    @Test
    void unknownAndMalformedIdsAreNotFound() {
        String unknown = UUID.randomUUID().toString();
        for (String path : new String[] {"/checkpoints/" + unknown, "/checkpoints/" + unknown + "/model.safetensors",
                "/checkpoints/" + unknown + "/config.json", "/checkpoints/not-a-uuid"}) {
            HttpResponse<String> response = get(path);
            assertThat(response.statusCode()).as(path).isEqualTo(404);
            assertThat(json(response).path("type").asText()).isEqualTo("https://consort.dev/problems/not-found");
        }
        HttpResponse<String> deleted = delete("/checkpoints/" + unknown);
        assertThat(deleted.statusCode()).isEqualTo(404);
        assertThat(json(deleted).path("detail").asText()).contains(unknown);
    }

    @Test
    void deleteRemovesTheRowAndTheUnsharedBlob() {
        TinyGpt2 model = new TinyGpt2().seed(200);
        String sha = sha256(model.weights());
        String id = created(model).path("id").asText();
        assertThat(blobFile(sha)).exists();

        assertThat(delete("/checkpoints/" + id).statusCode()).isEqualTo(204);
        assertThat(get("/checkpoints/" + id).statusCode()).isEqualTo(404);
        assertThat(delete("/checkpoints/" + id).statusCode()).isEqualTo(404);
        assertThat(blobFile(sha)).doesNotExist();
        assertThat(jdbc.queryForObject("select count(*) from blob where sha256 = ?", Integer.class, sha)).isZero();
    }

    @Test
    void deleteKeepsBytesAnotherCheckpointShares() {
        TinyGpt2 model = new TinyGpt2().seed(300);
        String sha = sha256(model.weights());
        String one = created(model).path("id").asText();
        String two = created(model).path("id").asText();
        assertThat(one).isNotEqualTo(two);

        assertThat(delete("/checkpoints/" + one).statusCode()).isEqualTo(204);
        assertThat(blobFile(sha)).exists();
        assertThat(getBytes("/checkpoints/" + two + "/model.safetensors").body()).isEqualTo(model.weights());

        assertThat(delete("/checkpoints/" + two).statusCode()).isEqualTo(204);
        assertThat(blobFile(sha)).doesNotExist();
    }

    @Test
    void deleteIsRefusedWhileAnUnfinishedJobReadsTheCheckpoint() {
        String id = created(new TinyGpt2().seed(400)).path("id").asText();
        UUID job = UUID.randomUUID();
        // A device class no test worker serves, so the job stays queued while the delete is tried.
        jdbc.update("insert into job (id, type, status, spec, device_class, max_attempts) values (?, 'finetune', 'queued', '{}'::jsonb, 'idle', 3)",
                job);
        jdbc.update("insert into job_input (job_id, input_kind, input_id) values (?, 'checkpoint', ?)", job,
                UUID.fromString(id));

        HttpResponse<String> refused = delete("/checkpoints/" + id);
        assertThat(refused.statusCode()).isEqualTo(409);
        JsonNode problem = json(refused);
        assertThat(problem.path("type").asText()).isEqualTo("https://consort.dev/problems/in-use");
        assertThat(problem.path("detail").asText()).contains(job.toString());
        assertThat(problem.path("errors").get(0).path("field").asText()).isEqualTo(job.toString());
        assertThat(get("/checkpoints/" + id).statusCode()).isEqualTo(200);

        jdbc.update("update job set status = 'running' where id = ?", job);
        assertThat(delete("/checkpoints/" + id).statusCode()).isEqualTo(409);

        jdbc.update("update job set status = 'succeeded' where id = ?", job);
        assertThat(delete("/checkpoints/" + id).statusCode()).isEqualTo(204);
    }

    @Test
    void deletingAParentKeepsItsChildren() throws IOException {
        String parent = created(new TinyGpt2().seed(500)).path("id").asText();
        TinyGpt2 child = new TinyGpt2().seed(501);
        CheckpointView registered;
        try (StagedBlob staged = blobStore.stage(new java.io.ByteArrayInputStream(child.weights()));
             PublishedCheckpoint weights = uploads.publish(child.config(), staged)) {
            registered = uploads.register(weights, null,
                    new CheckpointProvenance(UUID.fromString(parent), null, 100L, true));
        }
        assertThat(delete("/checkpoints/" + parent).statusCode()).isEqualTo(204);
        JsonNode body = json(get("/checkpoints/" + registered.id()));
        assertThat(body.has("parent_id")).isFalse();
        assertThat(body.path("step").asLong()).isEqualTo(100);
    }

    @Test
    void aMergedCheckpointNamesWhatItMergedUntilOneIsDeleted() throws IOException {
        String base = created(new TinyGpt2().seed(700)).path("id").asText();
        String math = created(new TinyGpt2().seed(701)).path("id").asText();
        String code = created(new TinyGpt2().seed(702)).path("id").asText();
        assertThat(json(get("/checkpoints/" + math)).path("merged_from")).isEmpty();
        TinyGpt2 merged = new TinyGpt2().seed(703);
        CheckpointView registered;
        try (StagedBlob staged = blobStore.stage(new java.io.ByteArrayInputStream(merged.weights()));
             PublishedCheckpoint weights = uploads.publish(merged.config(), staged)) {
            registered = uploads.register(weights, "linear merge", new CheckpointProvenance(
                    UUID.fromString(base), null, null, false, List.of(UUID.fromString(math), UUID.fromString(code))));
        }
        JsonNode body = json(get("/checkpoints/" + registered.id()));
        assertThat(body.path("parent_id").asText()).isEqualTo(base);
        assertThat(stream(body.path("merged_from"))).containsExactly(math, code);

        assertThat(delete("/checkpoints/" + math).statusCode()).isEqualTo(204);
        assertThat(stream(json(get("/checkpoints/" + registered.id())).path("merged_from"))).containsExactly(code);
    }

    @Test
    void aMergeOfAnUnknownCheckpointIsRefusedAndStoresNothing() throws IOException {
        int before = jdbc.queryForObject("select count(*) from checkpoint", Integer.class);
        UUID unknown = UUID.randomUUID();
        TinyGpt2 merged = new TinyGpt2().seed(710);
        String sha;
        try (StagedBlob staged = blobStore.stage(new java.io.ByteArrayInputStream(merged.weights()));
             PublishedCheckpoint weights = uploads.publish(merged.config(), staged)) {
            sha = staged.sha256();
            assertThatThrownBy(() -> uploads.register(weights, null,
                    new CheckpointProvenance(null, null, null, false, List.of(unknown))))
                    .isInstanceOfSatisfying(ApiProblem.class, problem -> assertThat(problem.toProblemDetail()
                            .getDetail()).contains("merged_from[0]").contains(unknown.toString()));
        }
        assertThat(jdbc.queryForObject("select count(*) from checkpoint", Integer.class)).isEqualTo(before);
        // The weights were published before the refusal; closing them released their pin and the blob.
        assertThat(jdbc.queryForObject("select count(*) from blob where sha256 = ?", Integer.class, sha)).isZero();
        assertThat(blobStore.exists(sha)).isFalse();
    }

    @Test
    void registersACheckpointAJobProduced() throws IOException {
        String parent = created(new TinyGpt2().seed(600)).path("id").asText();
        UUID job = UUID.randomUUID();
        jdbc.update("insert into job (id, type, status, spec, max_attempts) values (?, 'finetune', 'running', '{}'::jsonb, 3)",
                job);
        TinyGpt2 model = new TinyGpt2().seed(601);
        CheckpointView registered;
        try (StagedBlob staged = blobStore.stage(new java.io.ByteArrayInputStream(model.weights()));
             PublishedCheckpoint weights = uploads.publish(model.config(), staged)) {
            registered = uploads.register(weights, "finetune step 250",
                    new CheckpointProvenance(UUID.fromString(parent), job, 250L, true));
            assertThat(staged.file()).doesNotExist();
        }
        JsonNode body = json(get("/checkpoints/" + registered.id()));
        assertThat(body.path("parent_id").asText()).isEqualTo(parent);
        assertThat(body.path("producing_job_id").asText()).isEqualTo(job.toString());
        assertThat(body.path("step").asLong()).isEqualTo(250);
        assertThat(body.path("best").asBoolean()).isTrue();
        assertThat(body.path("name").asText()).isEqualTo("finetune step 250");
        assertThat(getBytes("/checkpoints/" + registered.id() + "/model.safetensors").body()).isEqualTo(model.weights());
    }

    @Test
    void theContractDescribesTheMultipartUpload() {
        JsonNode docs = json(get("/v3/api-docs"));
        JsonNode body = docs.path("paths").path("/checkpoints").path("post").path("requestBody");
        JsonNode schema = body.path("content").path("multipart/form-data").path("schema");
        assertThat(schema.path("properties").path("config").path("format").asText()).isEqualTo("binary");
        assertThat(schema.path("properties").path("weights").path("format").asText()).isEqualTo("binary");
        assertThat(schema.path("properties").path("name").path("type").asText()).isEqualTo("string");
        assertThat(docs.path("paths").path("/checkpoints").path("post").path("operationId").asText())
                .isEqualTo("uploadCheckpoint");
        assertThat(stream(schema.path("required"))).containsExactlyInAnyOrder("config", "weights");
        JsonNode view = docs.path("components").path("schemas").path("Checkpoint").path("properties");
        assertThat(view.has("parameter_count")).isTrue();
        assertThat(view.has("producing_job_id")).isTrue();
    }

    private static Stream<String> stream(JsonNode array) {
        return java.util.stream.StreamSupport.stream(array.spliterator(), false).map(JsonNode::asText);
    }

}
