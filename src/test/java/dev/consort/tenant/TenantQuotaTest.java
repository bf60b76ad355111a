package dev.consort.tenant;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.UUID;

import org.junit.jupiter.api.Test;

import dev.consort.support.Multipart;
import dev.consort.support.TinyGpt2;
import dev.consort.worker.CountingTestHandler;
import tools.jackson.databind.JsonNode;

/**
 * Per-tenant quotas set by the admin (issue 16, item 3): past one, a 429 {@code quota-exceeded} problem names it
 * and nothing is stored; the tenant reads its quotas and usage at {@code /quota}.
 */
class TenantQuotaTest extends TenantApiTest {

    private static String tenant(String name) {
        return name + "-" + UUID.randomUUID().toString().substring(0, 8);
    }

    private HttpResponse<String> setQuota(String tenant, String body) {
        return as(ADMIN_KEY, HttpRequest.newBuilder(uri("/admin/tenants/" + tenant + "/quota"))
                .header("Content-Type", "application/json").PUT(HttpRequest.BodyPublishers.ofString(body)));
    }

    /** A job no worker of this test takes: GPU jobs wait in the queue of a service with CPU workers only. */
    private HttpResponse<String> submitWaitingJob(String key) {
        return postJsonAs(key, "/jobs", """
                {"type": "%s", "device": "gpu", "spec": {"steps": 1}}""".formatted(CountingTestHandler.TYPE));
    }

    private static String sha256(byte[] bytes) {
        try {
            return java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private long jobsOf(String tenant) {
        return jdbc.queryForObject("select count(*) from job where tenant = ?", Long.class, tenant);
    }

    @Test
    void aTenantAtItsQueuedJobQuotaGets429NamingItAndNothingIsQueued() {
        String tenant = tenant("queue");
        Key key = createKey(tenant);
        HttpResponse<String> set = setQuota(tenant, "{\"max_queued_jobs\": 2}");
        assertThat(set.statusCode()).as(set.body()).isEqualTo(200);
        assertThat(json(set).path("limit").path("max_queued_jobs").asInt()).isEqualTo(2);

        assertThat(submitWaitingJob(key.secret()).statusCode()).isEqualTo(201);
        assertThat(submitWaitingJob(key.secret()).statusCode()).isEqualTo(201);
        HttpResponse<String> third = submitWaitingJob(key.secret());
        assertProblem(third, 429, "quota-exceeded");
        assertThat(json(third).path("detail").asText()).contains("max_queued_jobs").contains("2 queued jobs");
        assertThat(json(third).path("errors").path(0).path("field").asText()).isEqualTo("max_queued_jobs");
        assertThat(third.headers().firstValue("Retry-After")).isPresent();
        assertThat(jobsOf(tenant)).isEqualTo(2);

        JsonNode mine = json(getAs(key.secret(), "/quota"));
        assertThat(mine.path("tenant").asText()).isEqualTo(tenant);
        assertThat(mine.path("usage").path("queued_jobs").asLong()).isEqualTo(2);
        assertThat(mine.path("set").path("max_queued_jobs").asInt()).isEqualTo(2);

        // Another tenant is not affected, and dropping the quota lets the first one submit again.
        String otherTenant = tenant("other");
        Key other = createKey(otherTenant);
        assertThat(submitWaitingJob(other.secret()).statusCode()).isEqualTo(201);
        HttpResponse<String> reset = as(ADMIN_KEY, HttpRequest.newBuilder(uri("/admin/tenants/" + tenant + "/quota"))
                .DELETE());
        assertThat(reset.statusCode()).isEqualTo(204);
        assertThat(submitWaitingJob(key.secret()).statusCode()).isEqualTo(201);
        assertThat(jobsOf(tenant)).isEqualTo(3);
        jdbc.update("delete from job where tenant in (?, ?)", tenant, otherTenant);
    }

    @Test
    void anUploadPastTheStorageQuotaGets429AndIsNotStoredAndJobsWaitUntilThereIsRoom() {
        String tenant = tenant("bytes");
        Key key = createKey(tenant);
        TinyGpt2 model = new TinyGpt2().seed(3);
        long size = model.weights().length;
        assertThat(setQuota(tenant, "{\"max_stored_bytes\": " + (size + 100) + "}").statusCode()).isEqualTo(200);

        HttpResponse<String> first = postAs(key.secret(), "/checkpoints", new Multipart()
                .file("config", "config.json", model.config()).file("weights", "model.safetensors", model.weights()));
        assertThat(first.statusCode()).as(first.body()).isEqualTo(201);
        TinyGpt2 another = new TinyGpt2().seed(4);
        HttpResponse<String> second = postAs(key.secret(), "/checkpoints", new Multipart()
                .file("config", "config.json", another.config())
                .file("weights", "model.safetensors", another.weights()));
        assertProblem(second, 429, "quota-exceeded");
        assertThat(json(second).path("errors").path(0).path("field").asText()).isEqualTo("max_stored_bytes");
        assertThat(jdbc.queryForObject("select count(*) from checkpoint where tenant = ?", Long.class, tenant))
                .isEqualTo(1);
        assertThat(jdbc.queryForObject("select count(*) from blob where sha256 = ?", Long.class,
                sha256(another.weights()))).isZero();
        HttpResponse<String> dataset = postAs(key.secret(), "/datasets", new Multipart()
                .file("file", "notes.txt", "some words that take up more than a hundred bytes once they are tokenized\n\n"
                        .repeat(10).getBytes(java.nio.charset.StandardCharsets.UTF_8)));
        assertProblem(dataset, 429, "quota-exceeded");
        assertThat(jdbc.queryForObject("select count(*) from dataset where tenant = ?", Long.class, tenant)).isZero();

        JsonNode usage = json(getAs(key.secret(), "/quota")).path("usage");
        assertThat(usage.path("stored_bytes").asLong()).isEqualTo(size);

        // At the quota exactly, new jobs (which may store outputs) are refused too.
        assertThat(setQuota(tenant, "{\"max_stored_bytes\": " + size + "}").statusCode()).isEqualTo(200);
        assertProblem(submitWaitingJob(key.secret()), 429, "quota-exceeded");
        assertThat(jobsOf(tenant)).isZero();
        assertThat(deleteAs(key.secret(), "/checkpoints/" + json(first).path("id").asText()).statusCode())
                .isEqualTo(204);
        assertThat(submitWaitingJob(key.secret()).statusCode()).isEqualTo(201);
        jdbc.update("delete from job where tenant = ?", tenant);
    }

    @Test
    void onlyTheAdminSetsQuotasAndOutOfRangeValuesAreNamed() {
        String tenant = tenant("rules");
        Key key = createKey(tenant);
        assertProblem(as(key.secret(), HttpRequest.newBuilder(uri("/admin/tenants/" + tenant + "/quota"))
                .header("Content-Type", "application/json")
                .PUT(HttpRequest.BodyPublishers.ofString("{\"max_queued_jobs\": 1000}"))), 403, "forbidden");
        HttpResponse<String> invalid = setQuota(tenant, "{\"max_queued_jobs\": -1, \"max_running_jobs\": 0}");
        assertProblem(invalid, 422, "validation-failed");
        assertThat(invalid.body()).contains("max_queued_jobs").contains("max_running_jobs");
        assertThat(jdbc.queryForObject("select count(*) from tenant_quota where tenant = ?", Long.class, tenant))
                .isZero();
        JsonNode defaults = json(as(ADMIN_KEY, HttpRequest.newBuilder(uri("/admin/tenants/" + tenant + "/quota"))
                .GET()));
        assertThat(defaults.path("limit").path("max_queued_jobs").isNull()).isTrue();
        assertThat(defaults.path("usage").path("stored_bytes").asLong()).isZero();
    }
}
