package dev.consort.web;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;

import org.junit.jupiter.api.Test;

import dev.consort.support.ApiTest;
import dev.consort.support.Multipart;
import dev.consort.support.TinyGpt2;
import tools.jackson.databind.JsonNode;

/**
 * Request bodies that are not uploads are bounded in bytes ({@code consort.limits.request-body}, 1 MB by
 * default: 413) and JSON is bounded in nesting depth and number length (Jackson's read constraints set in
 * application.yaml: 400 naming the limit), so no body can fill the heap or the stack.
 */
class RequestBodyLimitTest extends ApiTest {

    private static final int LIMIT = 1024 * 1024;

    /** A job submission of about {@code size} bytes: valid JSON, padded by a long name. */
    private static String jobOfSize(int size) {
        return "{\"type\": \"test.count\", \"name\": \"" + "n".repeat(size) + "\", \"spec\": {\"steps\": 1}}";
    }

    private static void assertProblem(HttpResponse<String> response, int status, String type, String... detail) {
        assertThat(response.statusCode()).as(response.body()).isEqualTo(status);
        assertThat(response.headers().firstValue("Content-Type")).hasValueSatisfying(
                ct -> assertThat(ct).startsWith("application/problem+json"));
        JsonNode problem = json(response);
        assertThat(problem.path("type").asText()).isEqualTo("https://consort.dev/problems/" + type);
        assertThat(problem.path("detail").asText()).contains(detail);
    }

    @Test
    void aJsonBodyOverOneMegabyteIsPayloadTooLarge() {
        long jobs = jdbc.queryForObject("select count(*) from job", Long.class);
        assertProblem(postJson("/jobs", jobOfSize(LIMIT)), 413, "payload-too-large", "1048576",
                "consort.limits.request-body");
        assertThat(jdbc.queryForObject("select count(*) from job", Long.class)).isEqualTo(jobs);
    }

    @Test
    void aChunkedJsonBodyIsCutOffWhenItPassesTheLimit() {
        byte[] body = jobOfSize(LIMIT).getBytes(StandardCharsets.UTF_8);
        HttpResponse<String> response = send(HttpRequest.newBuilder(uri("/jobs"))
                .header("Content-Type", "application/json")
                // No length known in advance: sent chunked.
                .POST(HttpRequest.BodyPublishers.ofInputStream(() -> new ByteArrayInputStream(body))));
        assertProblem(response, 413, "payload-too-large", "1048576", "consort.limits.request-body");
    }

    @Test
    void aJsonBodyUnderTheLimitIsRead() {
        HttpResponse<String> response = postJson("/jobs", jobOfSize(LIMIT - 1000));
        // Read and validated: the name is too long for a job, which the validation says.
        assertProblem(response, 422, "validation-failed", "name");
    }

    @Test
    void aMergekitYamlBodyOverTheLimitIsPayloadTooLarge() {
        HttpResponse<String> response = send(HttpRequest.newBuilder(uri("/jobs?eval_dataset_id=" + java.util.UUID.randomUUID()))
                .header("Content-Type", "application/yaml")
                .POST(HttpRequest.BodyPublishers.ofString("merge_method: linear\n# " + "x".repeat(LIMIT) + "\n")));
        assertProblem(response, 413, "payload-too-large", "consort.limits.request-body");
    }

    @Test
    void jsonNestedDeeperThanSixtyFourLevelsIsABadRequestNamingTheLimit() {
        String deep = "[".repeat(70) + "]".repeat(70);
        HttpResponse<String> response = postJson("/jobs", "{\"type\": \"test.count\", \"spec\": {\"steps\": " + deep + "}}");
        assertProblem(response, 400, "bad-request", "nesting depth", "64");
        assertThat(json(response).path("errors").get(0).path("field").asText()).isEqualTo("body");
    }

    @Test
    void jsonNestedWithinTheLimitIsReadAndValidated() {
        String nested = "[".repeat(50) + "]".repeat(50);
        HttpResponse<String> response = postJson("/jobs", "{\"type\": \"test.count\", \"spec\": {\"steps\": " + nested + "}}");
        assertProblem(response, 422, "validation-failed", "steps");
    }

    @Test
    void aNumberOfMoreThanAHundredDigitsIsABadRequestNamingTheLimit() {
        HttpResponse<String> response = postJson("/jobs",
                "{\"type\": \"test.count\", \"spec\": {\"steps\": " + "9".repeat(101) + "}}");
        assertProblem(response, 400, "bad-request", "Number value length", "100");
    }

    /** Form fields (not files) are held in memory by the container, which caps them at 2 MB in all. */
    @Test
    void aMultipartFormFieldOverTwoMegabytesIsPayloadTooLarge() {
        TinyGpt2 model = new TinyGpt2();
        long checkpoints = jdbc.queryForObject("select count(*) from checkpoint", Long.class);
        HttpResponse<String> response = post("/checkpoints", new Multipart()
                .file("config", "config.json", model.config())
                .file("weights", "model.safetensors", model.weights())
                .field("name", "n".repeat(3 * LIMIT)));
        assertProblem(response, 413, "payload-too-large", "Maximum upload size exceeded");
        assertThat(jdbc.queryForObject("select count(*) from checkpoint", Long.class)).isEqualTo(checkpoints);
    }
}
