package dev.consort.job;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

import org.junit.jupiter.api.Test;

import dev.consort.support.ApiTest;
import dev.consort.worker.CountingTestHandler;
import tools.jackson.databind.JsonNode;

class JobApiTest extends ApiTest {

    private static String countJob(int steps, int stepMillis) {
        return "{\"type\": \"test.count\", \"spec\": {\"steps\": " + steps + ", \"step_millis\": " + stepMillis + "}}";
    }

    private JsonNode awaitStatus(String id, String... statuses) {
        return awaitJob(id, Duration.ofSeconds(60), statuses);
    }

    @Test
    void aJobRunsToSuccessWithEventsAndLosses() {
        HttpResponse<String> created = postJson("/jobs", countJob(5, 10));
        assertThat(created.statusCode()).isEqualTo(201);
        JsonNode job = json(created);
        String id = job.path("id").asText();
        assertThat(created.headers().firstValue("Location")).hasValue("/jobs/" + id);
        assertThat(job.path("status").asText()).isEqualTo("queued");
        assertThat(job.path("device").asText()).isEqualTo("any");

        JsonNode done = awaitStatus(id, "succeeded");
        assertThat(done.path("result").path("steps").asInt()).isEqualTo(5);
        assertThat(done.path("attempts").asInt()).isEqualTo(1);
        assertThat(done.path("progress").path("step").asInt()).isEqualTo(5);
        assertThat(done.path("finished_at").isNull()).isFalse();

        JsonNode losses = json(get("/jobs/" + id + "/losses"));
        JsonNode train = losses.path("series").get(0);
        assertThat(train.path("name").asText()).isEqualTo("train");
        assertThat(train.path("points")).hasSize(5);
        assertThat(train.path("points").get(1).path("step").asLong()).isEqualTo(2);
        assertThat(train.path("points").get(1).path("tokens").asLong()).isEqualTo(32);
        assertThat(train.path("points").get(1).path("value").asDouble()).isEqualTo(0.5);

        JsonNode events = json(get("/jobs/" + id + "/events"));
        List<String> kinds = new ArrayList<>();
        events.path("items").forEach(e -> kinds.add(e.path("kind").asText()));
        assertThat(kinds).startsWith("queued", "started").endsWith("succeeded");
        assertThat(kinds).filteredOn("progress"::equals).hasSize(5);

        // Cursor paging through the same events, two at a time.
        List<String> paged = new ArrayList<>();
        String after = "0";
        while (true) {
            JsonNode page = json(get("/jobs/" + id + "/events?limit=2&after=" + after));
            page.path("items").forEach(e -> paged.add(e.path("kind").asText()));
            if (!page.path("has_more").asBoolean()) {
                break;
            }
            after = page.path("next_after").asText();
        }
        assertThat(paged).isEqualTo(kinds);
    }

    @Test
    void serverSentEventsReplayFromLastEventIdAndEndWithTheJob() throws Exception {
        String id = json(postJson("/jobs", countJob(3, 20))).path("id").asText();
        List<String> first = readStream(id, null);
        assertThat(first).last().satisfies(e -> assertThat(e).startsWith("succeeded|"));
        assertThat(first.get(0)).startsWith("queued|");

        String secondId = first.get(1).split("\\|")[1];
        List<String> replay = readStream(id, secondId);
        assertThat(replay).isEqualTo(first.subList(2, first.size()));
    }

    /** Reads an SSE stream to its end; returns "kind|id" per event. */
    private List<String> readStream(String jobId, String lastEventId) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(uri("/jobs/" + jobId + "/events"))
                .header("Accept", "text/event-stream").timeout(Duration.ofSeconds(60));
        if (lastEventId != null) {
            request.header("Last-Event-ID", lastEventId);
        }
        HttpResponse<java.io.InputStream> response = HTTP.send(request.build(), HttpResponse.BodyHandlers.ofInputStream());
        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.headers().firstValue("Content-Type").orElse("")).startsWith("text/event-stream");
        List<String> events = new ArrayList<>();
        try (BufferedReader reader = new BufferedReader(new InputStreamReader(response.body(), StandardCharsets.UTF_8))) {
            String line;
            String id = null;
            String name = null;
            while ((line = reader.readLine()) != null) {
                if (line.startsWith("id:")) {
                    id = line.substring(3).trim();
                } else if (line.startsWith("event:")) {
                    name = line.substring(6).trim();
                } else if (line.isEmpty() && id != null) {
                    events.add(name + "|" + id);
                    id = null;
                    name = null;
                }
            }
        }
        return events;
    }

    @Test
    void cancellingARunningJobEndsCancelled() {
        String id = json(postJson("/jobs", countJob(2000, 10))).path("id").asText();
        awaitStatus(id, "running");
        HttpResponse<String> cancel = send(HttpRequest.newBuilder(uri("/jobs/" + id + "/cancel"))
                .POST(HttpRequest.BodyPublishers.noBody()));
        assertThat(cancel.statusCode()).isEqualTo(202);
        assertThat(json(cancel).path("status").asText()).isIn("cancelling", "cancelled");
        JsonNode job = awaitStatus(id, "cancelled");
        assertThat(job.path("cancel_requested").asBoolean()).isTrue();
        assertThat(CountingTestHandler.COMPLETIONS).doesNotContainKey(UUID.fromString(id));
    }

    @Test
    void cancellingAQueuedJobIsImmediateAndAFinishedJobIsAConflict() {
        // No GPU worker runs in tests, so a gpu job stays queued.
        String queued = json(postJson("/jobs", "{\"type\": \"test.count\", \"device\": \"gpu\", \"spec\": {\"steps\": 1}}"))
                .path("id").asText();
        HttpResponse<String> cancel = send(HttpRequest.newBuilder(uri("/jobs/" + queued + "/cancel"))
                .POST(HttpRequest.BodyPublishers.noBody()));
        assertThat(cancel.statusCode()).isEqualTo(202);
        assertThat(json(cancel).path("status").asText()).isEqualTo("cancelled");

        String done = json(postJson("/jobs", countJob(1, 0))).path("id").asText();
        awaitStatus(done, "succeeded");
        HttpResponse<String> conflict = send(HttpRequest.newBuilder(uri("/jobs/" + done + "/cancel"))
                .POST(HttpRequest.BodyPublishers.noBody()));
        assertThat(conflict.statusCode()).isEqualTo(409);
        assertThat(json(conflict).path("type").asText()).endsWith("/conflict");
    }

    @Test
    void resultsTablesAppearOnlyForSucceededJobsThatHaveOne() {
        String queued = json(postJson("/jobs", "{\"type\": \"test.count\", \"device\": \"gpu\", \"spec\": {\"steps\": 1}}"))
                .path("id").asText();
        assertProblem(get("/jobs/" + queued + "/results"), 409, "conflict", null);
        send(HttpRequest.newBuilder(uri("/jobs/" + queued + "/cancel")).POST(HttpRequest.BodyPublishers.noBody()));
        String done = json(postJson("/jobs", countJob(1, 0))).path("id").asText();
        awaitStatus(done, "succeeded");
        assertProblem(get("/jobs/" + done + "/results"), 404, "not-found", null);
        assertProblem(get("/jobs/" + UUID.randomUUID() + "/results"), 404, "not-found", null);
    }

    @Test
    void aFailedJobCarriesItsError() {
        String id = json(postJson("/jobs", "{\"type\": \"test.count\", \"spec\": {\"steps\": 5, \"fail_at\": 2}}"))
                .path("id").asText();
        JsonNode job = awaitStatus(id, "failed");
        assertThat(job.path("error").path("code").asText()).isEqualTo("test_failure");
        assertThat(job.path("error").path("message").asText()).contains("step 2");
    }

    @Test
    void idempotencyKeyReturnsTheSameJobAndRejectsADifferentBody() {
        String key = "key-" + UUID.randomUUID();
        String body = "{\"type\": \"test.count\", \"device\": \"gpu\", \"spec\": {\"steps\": 1}}";
        HttpResponse<String> first = send(HttpRequest.newBuilder(uri("/jobs")).header("Content-Type", "application/json")
                .header("Idempotency-Key", key).POST(HttpRequest.BodyPublishers.ofString(body)));
        // Same request, keys reordered: still the same request.
        String reordered = "{\"spec\": {\"steps\": 1}, \"device\": \"gpu\", \"type\": \"test.count\"}";
        HttpResponse<String> second = send(HttpRequest.newBuilder(uri("/jobs")).header("Content-Type", "application/json")
                .header("Idempotency-Key", key).POST(HttpRequest.BodyPublishers.ofString(reordered)));
        assertThat(first.statusCode()).isEqualTo(201);
        assertThat(second.statusCode()).isEqualTo(200);
        assertThat(json(second).path("id").asText()).isEqualTo(json(first).path("id").asText());

        HttpResponse<String> different = send(HttpRequest.newBuilder(uri("/jobs")).header("Content-Type", "application/json")
                .header("Idempotency-Key", key).POST(HttpRequest.BodyPublishers.ofString(
                        "{\"type\": \"test.count\", \"device\": \"gpu\", \"spec\": {\"steps\": 2}}")));
        assertThat(different.statusCode()).isEqualTo(422);
        assertThat(json(different).path("type").asText()).endsWith("/idempotency-conflict");
        assertThat(jdbc.queryForObject("select count(*) from job where idempotency_key = ?", Integer.class, key)).isEqualTo(1);
        send(HttpRequest.newBuilder(uri("/jobs/" + json(first).path("id").asText() + "/cancel"))
                .POST(HttpRequest.BodyPublishers.noBody()));
    }

    @Test
    void badSubmissionsNameTheFieldAndStoreNothing() {
        int before = jdbc.queryForObject("select count(*) from job", Integer.class);

        assertProblem(postJson("/jobs", "{\"type\": \"frobnicate\", \"spec\": {}}"), 422, "validation-failed", "type");
        assertProblem(postJson("/jobs", "{\"spec\": {}}"), 422, "validation-failed", "type");
        assertProblem(postJson("/jobs", "{\"type\": \"test.count\"}"), 422, "validation-failed", "spec");
        assertProblem(postJson("/jobs", "{\"type\": \"test.count\", \"spec\": [1]}"), 422, "validation-failed", "spec");
        assertProblem(postJson("/jobs", "{\"type\": \"test.count\", \"spec\": {\"steps\": 1, \"colour\": \"red\"}}"),
                422, "validation-failed", "spec.colour");
        assertProblem(postJson("/jobs", "{\"type\": \"test.count\", \"spec\": {\"steps\": \"many\"}}"),
                422, "validation-failed", "spec.steps");
        assertProblem(postJson("/jobs", "{\"type\": \"test.count\", \"spec\": {\"steps\": 0}}"),
                422, "validation-failed", "spec.steps");
        assertProblem(postJson("/jobs", "{\"type\": \"test.count\", \"spec\": {\"steps\": 1, \"step_millis\": -5}}"),
                422, "validation-failed", "spec.step_millis");
        assertProblem(postJson("/jobs", "{\"type\": \"test.count\", \"device\": \"tpu\", \"spec\": {\"steps\": 1}}"),
                422, "validation-failed", "device");
        assertProblem(postJson("/jobs", "{\"type\": \"test.count\", \"priority\": 1000, \"spec\": {\"steps\": 1}}"),
                422, "validation-failed", "priority");
        assertProblem(postJson("/jobs", "{\"type\": \"test.count\", \"spec\": "), 400, "bad-request", null);
        assertProblem(send(HttpRequest.newBuilder(uri("/jobs")).header("Content-Type", "text/plain")
                .POST(HttpRequest.BodyPublishers.ofString("hello"))), 415, "unsupported-media-type", null);

        UUID missing = UUID.randomUUID();
        String finetune = "{\"type\": \"finetune\", \"spec\": {\"base_checkpoint_id\": \"" + missing
                + "\", \"dataset_id\": \"" + missing + "\", \"training\": {\"steps\": 10}}}";
        JsonNode problem = assertProblem(postJson("/jobs", finetune), 422, "validation-failed", "spec.base_checkpoint_id");
        assertThat(problem.path("errors").toString()).contains("spec.dataset_id").contains("no dataset with id " + missing);
        assertProblem(postJson("/jobs", "{\"type\": \"finetune\", \"spec\": {\"base_checkpoint_id\": \"" + missing
                + "\", \"dataset_id\": \"" + missing + "\", \"trainable\": \"attention\", \"training\": {\"steps\": 10}}}"),
                422, "validation-failed", "spec.trainable");
        assertProblem(postJson("/jobs", "{\"type\": \"pretrain\", \"spec\": {\"config\": {\"n_layer\": 2, \"n_embd\": 10, "
                + "\"n_head\": 3, \"n_positions\": 64}, \"dataset_id\": \"" + missing + "\", \"training\": {\"steps\": 5}}}"),
                422, "validation-failed", "spec.config.n_embd");

        assertThat(jdbc.queryForObject("select count(*) from job", Integer.class)).isEqualTo(before);
    }

    @Test
    void listsFilterByStatusAndTypeAndPage() {
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            ids.add(json(postJson("/jobs", "{\"type\": \"test.count\", \"device\": \"gpu\", \"name\": \"list-" + i
                    + "\", \"spec\": {\"steps\": 1}}")).path("id").asText());
        }
        JsonNode firstPage = json(get("/jobs?status=queued&type=test.count&limit=2"));
        assertThat(firstPage.path("items")).hasSize(2);
        assertThat(firstPage.path("has_more").asBoolean()).isTrue();
        assertThat(firstPage.path("items").get(0).path("id").asText()).isEqualTo(ids.get(2));
        assertThat(firstPage.path("items").get(1).path("id").asText()).isEqualTo(ids.get(1));
        JsonNode secondPage = json(get("/jobs?status=queued&type=test.count&limit=2&after="
                + firstPage.path("next_after").asText()));
        assertThat(secondPage.path("items").get(0).path("id").asText()).isEqualTo(ids.get(0));
        json(get("/jobs?status=succeeded")).path("items")
                .forEach(j -> assertThat(j.path("status").asText()).isEqualTo("succeeded"));

        assertProblem(get("/jobs?status=sleeping"), 400, "bad-request", "status");
        assertProblem(get("/jobs?limit=0"), 400, "bad-request", "limit");
        assertProblem(get("/jobs?limit=100000"), 400, "bad-request", "limit");
        ids.forEach(id -> send(HttpRequest.newBuilder(uri("/jobs/" + id + "/cancel")).POST(HttpRequest.BodyPublishers.noBody())));
    }

    @Test
    void unknownJobsAre404Problems() {
        UUID id = UUID.randomUUID();
        assertProblem(get("/jobs/" + id), 404, "not-found", null);
        assertProblem(get("/jobs/" + id + "/events"), 404, "not-found", null);
        assertProblem(get("/jobs/" + id + "/losses"), 404, "not-found", null);
        assertProblem(get("/jobs/not-a-uuid"), 404, "not-found", null);
        assertProblem(send(HttpRequest.newBuilder(uri("/jobs/" + id + "/cancel")).POST(HttpRequest.BodyPublishers.noBody())),
                404, "not-found", null);
        assertProblem(send(HttpRequest.newBuilder(uri("/jobs/" + id)).DELETE()), 405, "method-not-allowed", null);
    }

    /**
     * A long curve is thinned in the database before it reaches the API: at most max_points (default 2000) per
     * series, the first and last kept, points_total telling how many there are; max_points out of range is a 400.
     */
    @Test
    void aLongLossCurveComesThinnedWithItsEndsAndItsTotal() {
        HttpResponse<String> created = postJson("/jobs", "{\"type\": \"test.count\", \"spec\": {\"steps\": 1}}");
        String id = json(created).path("id").asText();
        awaitSuccess(id, Duration.ofMinutes(1));
        jdbc.update("""
                insert into loss_point (job_id, series, step, tokens, value)
                select ?::uuid, 'long', s, s * 16, 1.0 / s from generate_series(1, 10000) s""", id);

        JsonNode thinned = json(get("/jobs/" + id + "/losses?series=long")).path("series").get(0);
        JsonNode points = thinned.path("points");
        assertThat(thinned.path("points_total").asLong()).isEqualTo(10_000);
        // Every 6th point (⌈10000 / 1999⌉) from step 1, and the last: 1667 + 1.
        assertThat(points).hasSize(1668);
        assertThat(points.get(0).path("step").asLong()).isEqualTo(1);
        assertThat(points.get(1).path("step").asLong()).isEqualTo(7);
        assertThat(points.get(points.size() - 1).path("step").asLong()).isEqualTo(10_000);

        JsonNode whole = json(get("/jobs/" + id + "/losses?series=long&max_points=100000")).path("series").get(0);
        assertThat(whole.path("points")).hasSize(10_000);
        JsonNode few = json(get("/jobs/" + id + "/losses?series=long&max_points=2")).path("series").get(0);
        assertThat(few.path("points")).extracting(p -> p.path("step").asLong()).containsExactly(1L, 10_000L);
        assertProblem(get("/jobs/" + id + "/losses?max_points=1"), 400, "bad-request", "max_points");
        assertProblem(get("/jobs/" + id + "/losses?max_points=100001"), 400, "bad-request", "max_points");
        assertThat(get("/jobs/" + id + "/losses?series=long&format=png").statusCode()).isEqualTo(200);
    }

    private JsonNode assertProblem(HttpResponse<String> response, int status, String type, String field) {
        assertThat(response.statusCode()).as(response.body()).isEqualTo(status);
        assertThat(response.headers().firstValue("Content-Type").orElse("")).startsWith("application/problem+json");
        JsonNode problem = json(response);
        assertThat(problem.path("type").asText()).isEqualTo("https://consort.dev/problems/" + type);
        assertThat(problem.path("status").asInt()).isEqualTo(status);
        if (field != null) {
            List<String> fields = new ArrayList<>();
            problem.path("errors").forEach(e -> fields.add(e.path("field").asText()));
            assertThat(fields).as(response.body()).contains(field);
        }
        return problem;
    }

    /** Polling: the job's ETag answers 304 until the job changes; pollers may leave the result out. */
    @Test
    void aPollerWithTheJobsETagGets304UntilTheJobChanges() {
        String queued = json(postJson("/jobs", "{\"type\": \"test.count\", \"device\": \"gpu\", \"spec\": "
                + "{\"steps\": 1}}")).path("id").asText();
        HttpResponse<String> first = get("/jobs/" + queued);
        String etag = first.headers().firstValue("ETag").orElseThrow();
        assertThat(etag).startsWith("W/\"");
        HttpResponse<String> unchanged = send(HttpRequest.newBuilder(uri("/jobs/" + queued))
                .header("If-None-Match", etag).GET());
        assertThat(unchanged.statusCode()).isEqualTo(304);
        assertThat(unchanged.body()).isEmpty();

        assertThat(postJson("/jobs/" + queued + "/cancel", "").statusCode()).isEqualTo(202);
        HttpResponse<String> changed = send(HttpRequest.newBuilder(uri("/jobs/" + queued))
                .header("If-None-Match", etag).GET());
        assertThat(changed.statusCode()).isEqualTo(200);
        assertThat(json(changed).path("status").asText()).isEqualTo("cancelled");
        assertThat(changed.headers().firstValue("ETag")).hasValueSatisfying(e -> assertThat(e).isNotEqualTo(etag));

        // The result comes with the job unless left out; list pages leave it out.
        HttpResponse<String> created = postJson("/jobs", countJob(2, 1));
        String done = json(created).path("id").asText();
        awaitStatus(done, "succeeded");
        assertThat(json(get("/jobs/" + done)).path("result").path("steps").asInt()).isEqualTo(2);
        JsonNode lean = json(get("/jobs/" + done + "?with_result=false"));
        assertThat(lean.path("status").asText()).isEqualTo("succeeded");
        assertThat(lean.path("result").isNull()).isTrue();
        JsonNode page = json(get("/jobs?type=test.count&limit=50"));
        assertThat(page.path("items")).isNotEmpty().allSatisfy(item -> assertThat(item.path("result").isNull()).isTrue());
        assertThat(get("/jobs/" + java.util.UUID.randomUUID()).statusCode()).isEqualTo(404);
    }
}
