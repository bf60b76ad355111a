package dev.consort.tenant;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

import dev.consort.support.ApiTest;
import dev.consort.support.Multipart;
import dev.consort.support.TestDatabase;
import tools.jackson.databind.JsonNode;

/**
 * HTTP tests of a service with API keys: an admin key is configured, so every request needs a key (and one upload
 * per tenant at a time is allowed). The
 * subclasses share one application context, with a PostgreSQL of its own when there is no Docker (the
 * default context holds the shared embedded one).
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
        properties = {"consort.auth.admin-key=" + TenantApiTest.ADMIN_KEY,
            "consort.limits.concurrent-uploads-per-tenant=1",
            // Some tests here hold an upload half sent on purpose; the body rate is RequestBodyRateTest's.
            "consort.limits.request-body-min-rate=0"})
abstract class TenantApiTest extends ApiTest {

    static final String ADMIN_KEY = "test-admin-key-0123456789abcdef-0123456789abcdef";

    private static EmbeddedPostgres ownPostgres;

    @DynamicPropertySource
    static void ownDatabase(DynamicPropertyRegistry registry) {
        if (TestDatabase.container() == null) {
            registry.add("spring.datasource.url", () -> ownPostgres().getJdbcUrl("postgres", "postgres"));
            registry.add("spring.datasource.username", () -> "postgres");
        }
    }

    private static synchronized EmbeddedPostgres ownPostgres() {
        if (ownPostgres == null) {
            try {
                ownPostgres = EmbeddedPostgres.builder().start();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return ownPostgres;
    }

    @Autowired
    FailedAuthenticationLimiter failureLimiter;

    /** Every test starts with its address's full budget of failed authentications (they all come from loopback). */
    @BeforeEach
    void forgetFailures() {
        failureLimiter.forgetAll();
    }

    /** Keys decide whether a service starts open; leave none behind for contexts that share a database. */
    @AfterEach
    void forgetKeys() {
        jdbc.update("delete from api_key");
    }

    /** A key just made by the admin: its id and the secret. */
    record Key(String id, String secret) {}

    Key createKey(String tenant, String body) {
        HttpResponse<String> created = as(ADMIN_KEY, HttpRequest.newBuilder(uri("/admin/keys"))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body.formatted(tenant))));
        assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
        JsonNode key = json(created);
        return new Key(key.path("id").asText(), key.path("key").asText());
    }

    Key createKey(String tenant) {
        return createKey(tenant, "{\"tenant\": \"%s\", \"name\": \"test\"}");
    }

    HttpResponse<String> as(String key, HttpRequest.Builder request) {
        return send(request.header("Authorization", "Bearer " + key));
    }

    HttpResponse<String> getAs(String key, String path) {
        return as(key, HttpRequest.newBuilder(uri(path)).GET());
    }

    HttpResponse<String> deleteAs(String key, String path) {
        return as(key, HttpRequest.newBuilder(uri(path)).DELETE());
    }

    HttpResponse<String> postJsonAs(String key, String path, String json) {
        return as(key, HttpRequest.newBuilder(uri(path)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(json)));
    }

    HttpResponse<String> postAs(String key, String path, Multipart form) {
        return as(key, HttpRequest.newBuilder(uri(path)).header("Content-Type", form.contentType())
                .POST(form.publisher()));
    }

    static void assertProblem(HttpResponse<String> response, int status, String type) {
        assertThat(response.statusCode()).as(response.body()).isEqualTo(status);
        assertThat(response.headers().firstValue("Content-Type")).hasValueSatisfying(
                ct -> assertThat(ct).startsWith("application/problem+json"));
        assertThat(json(response).path("type").asText()).isEqualTo("https://consort.dev/problems/" + type);
        assertThat(json(response).path("status").asInt()).isEqualTo(status);
    }
}
