package dev.consort.tenant;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import javax.sql.DataSource;

import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;

import dev.consort.support.Multipart;
import dev.consort.support.TinyGpt2;
import tools.jackson.databind.JsonNode;

/** Missing, wrong and revoked keys are 401 problems; keys are stored hashed and shown once; limits hold. */
class ApiKeyAuthenticationTest extends TenantApiTest {

    @Autowired
    ApiKeys keys;

    @Test
    void aRequestWithoutAKeyIsUnauthorized() {
        for (HttpResponse<String> response : List.of(get("/checkpoints"), get("/jobs/" + java.util.UUID.randomUUID()),
                postJson("/jobs", "{\"type\": \"test.count\", \"spec\": {\"steps\": 1}}"),
                send(HttpRequest.newBuilder(uri("/datasets")).header("Authorization", "Basic dXNlcjpwYXNz").GET()),
                send(HttpRequest.newBuilder(uri("/datasets")).header("Authorization", "Bearer ").GET()))) {
            assertProblem(response, 401, "unauthorized");
            assertThat(response.headers().firstValue("WWW-Authenticate")).hasValueSatisfying(
                    h -> assertThat(h).startsWith("Bearer"));
        }
    }

    @Test
    void aWrongKeyIsUnauthorized() {
        createKey("wrong-key-tenant");
        HttpResponse<String> response = getAs("csk_thisIsNotAKeyAnybodyWasGiven0000000000000", "/checkpoints");
        assertProblem(response, 401, "unauthorized");
        assertThat(response.headers().firstValue("WWW-Authenticate")).hasValueSatisfying(
                h -> assertThat(h).startsWith("Bearer").contains("error=\"invalid_token\""));
    }

    /**
     * A token without a key's shape is refused before any database lookup, and a well-formed one the database did
     * not know is looked up once and then refused from memory: cycling bad tokens costs no queries.
     */
    @Test
    void malformedAndAlreadyRefusedTokensCostNoDatabaseLookup() {
        long before = keys.lookups();
        for (String token : List.of("x", "csk_short", "csk_" + "A".repeat(42) + "!", "'; drop table api_key; --",
                "a".repeat(4000))) {
            assertProblem(getAs(token, "/checkpoints"), 401, "unauthorized");
        }
        assertThat(keys.lookups()).as("no lookup for malformed tokens").isEqualTo(before);
        String unknown = "csk_" + "B".repeat(43);
        for (int i = 0; i < 5; i++) {
            assertProblem(getAs(unknown, "/checkpoints"), 401, "unauthorized");
        }
        assertThat(keys.lookups()).as("one lookup, then refused from memory").isEqualTo(before + 1);
        Key key = createKey("shaped-tenant");
        assertThat(getAs(key.secret(), "/checkpoints").statusCode()).isEqualTo(200);
    }

    @Test
    void aRevokedKeyIsUnauthorizedAndStaysListed() {
        Key key = createKey("revoked-tenant");
        assertThat(getAs(key.secret(), "/checkpoints").statusCode()).isEqualTo(200);

        assertThat(deleteAs(ADMIN_KEY, "/admin/keys/" + key.id()).statusCode()).isEqualTo(204);

        HttpResponse<String> after = getAs(key.secret(), "/checkpoints");
        assertProblem(after, 401, "unauthorized");
        assertThat(after.headers().firstValue("WWW-Authenticate")).isPresent();
        JsonNode listed = json(getAs(ADMIN_KEY, "/admin/keys/" + key.id()));
        assertThat(listed.path("revoked_at").isNull()).isFalse();
        assertThat(deleteAs(ADMIN_KEY, "/admin/keys/" + key.id()).statusCode()).as("revoking twice").isEqualTo(204);
        assertProblem(deleteAs(ADMIN_KEY, "/admin/keys/" + java.util.UUID.randomUUID()), 404, "not-found");
    }

    @Test
    void theKeyIsShownOnceAndStoredOnlyAsItsHash() {
        HttpResponse<String> created = postJsonAs(ADMIN_KEY, "/admin/keys",
                "{\"tenant\": \"team-a\", \"name\": \"alice\", \"upload_limit_bytes\": 1000000, \"rate_limit_per_minute\": 600}");
        assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
        JsonNode key = json(created);
        String secret = key.path("key").asText();
        assertThat(secret).startsWith("csk_").hasSizeGreaterThan(40);
        assertThat(secret).startsWith(key.path("prefix").asText());
        assertThat(created.headers().firstValue("Location")).hasValue("/admin/keys/" + key.path("id").asText());
        assertThat(key.path("tenant").asText()).isEqualTo("team-a");
        assertThat(key.path("upload_limit_bytes").asLong()).isEqualTo(1_000_000);
        assertThat(key.path("rate_limit_per_minute").asInt()).isEqualTo(600);

        HttpResponse<String> list = getAs(ADMIN_KEY, "/admin/keys?tenant=team-a");
        assertThat(list.statusCode()).isEqualTo(200);
        assertThat(json(list).path("items")).hasSize(1);
        assertThat(list.body()).doesNotContain(secret.substring(key.path("prefix").asText().length()));
        assertThat(json(list).path("items").get(0).has("key")).isFalse();
        assertThat(getAs(ADMIN_KEY, "/admin/keys/" + key.path("id").asText()).body()).doesNotContain(secret);

        Map<String, Object> row = jdbc.queryForMap("select * from api_key where id = ?::uuid", key.path("id").asText());
        assertThat(row.values()).noneSatisfy(value -> assertThat(String.valueOf(value)).isEqualTo(secret));
        assertThat(row.get("key_sha256")).isEqualTo(ApiKeys.sha256(secret));
        assertThat(getAs(secret, "/checkpoints").statusCode()).isEqualTo(200);
    }

    @Test
    void aKeyIsMadeOnlyForAValidTenantAndName() {
        HttpResponse<String> bad = postJsonAs(ADMIN_KEY, "/admin/keys",
                "{\"tenant\": \"Team A!\", \"name\": \"\", \"rate_limit_per_minute\": 0}");
        assertProblem(bad, 422, "validation-failed");
        assertThat(bad.body()).contains("tenant", "name", "rate_limit_per_minute");
    }

    @Test
    void theAdminKeyOnlyManagesKeysAndTenantKeysCannotManageThem() {
        String tenantKey = createKey("plain-tenant").secret();
        assertProblem(getAs(ADMIN_KEY, "/checkpoints"), 403, "forbidden");
        assertProblem(getAs(tenantKey, "/admin/keys"), 403, "forbidden");
        assertProblem(postJsonAs(tenantKey, "/admin/keys", "{\"tenant\": \"x\", \"name\": \"y\"}"), 403, "forbidden");
        assertProblem(get("/admin/keys"), 401, "unauthorized");
    }

    @Test
    void healthMetricsAndTheApiDescriptionNeedNoKey() {
        assertThat(get("/actuator/health/readiness").statusCode()).isEqualTo(200);
        assertThat(get("/actuator/health/liveness").statusCode()).isEqualTo(200);
        assertThat(get("/actuator/prometheus").statusCode()).isEqualTo(200);
        assertThat(get("/v3/api-docs").statusCode()).isEqualTo(200);
    }

    @Test
    void pathsThatCouldConfuseTheRouterAreRefused() {
        for (String path : List.of("/actuator/..;/checkpoints", "/actuator/%2e%2e/checkpoints", "/actuator/health/../../checkpoints",
                "/actuator;x=1/health")) {
            HttpResponse<String> response = get(path);
            assertThat(response.statusCode()).as(path).isIn(400, 401, 404);
            assertThat(response.body()).as(path).doesNotContain("\"items\"");
        }
    }

    @Test
    void requestsBeyondTheKeysRateAreTooManyWithRetryAfter() {
        String key = createKey("rate-tenant",
                "{\"tenant\": \"%s\", \"name\": \"slow\", \"rate_limit_per_minute\": 3}").secret();
        for (int i = 0; i < 3; i++) {
            assertThat(getAs(key, "/jobs").statusCode()).isEqualTo(200);
        }
        HttpResponse<String> limited = getAs(key, "/jobs");
        assertProblem(limited, 429, "too-many-requests");
        assertThat(limited.headers().firstValue("Retry-After")).hasValueSatisfying(
                seconds -> assertThat(Long.parseLong(seconds)).isBetween(1L, 20L));
    }

    @Autowired
    DataSource dataSource;

    /** The bucket lives in PostgreSQL: what another api replica takes from a key's rate, this one cannot. */
    @Test
    void aKeysRateIsSharedByEveryApiReplica() {
        Key key = createKey("shared-rate-tenant",
                "{\"tenant\": \"%s\", \"name\": \"shared\", \"rate_limit_per_minute\": 4}");
        RequestRateLimiter otherReplica = new RequestRateLimiter(dataSource);
        assertThat(getAs(key.secret(), "/jobs").statusCode()).isEqualTo(200);
        assertThat(getAs(key.secret(), "/jobs").statusCode()).isEqualTo(200);
        assertThat(otherReplica.acquire(UUID.fromString(key.id()), 4)).isZero();
        assertThat(otherReplica.acquire(UUID.fromString(key.id()), 4)).isZero();
        assertProblem(getAs(key.secret(), "/jobs"), 429, "too-many-requests");
        assertThat(otherReplica.acquire(UUID.fromString(key.id()), 4)).isPositive();
    }

    @Test
    void uploadsBeyondTheKeysLimitArePayloadTooLarge() {
        String key = createKey("upload-tenant",
                "{\"tenant\": \"%s\", \"name\": \"small\", \"upload_limit_bytes\": 4096}").secret();
        TinyGpt2 model = new TinyGpt2().vocab(1024);
        assertThat(model.weights().length).isGreaterThan(4096);
        HttpResponse<String> response = postAs(key, "/checkpoints", new Multipart()
                .file("config", "config.json", model.config())
                .file("weights", "model.safetensors", model.weights()));
        assertProblem(response, 413, "payload-too-large");
        assertThat(json(getAs(key, "/checkpoints")).path("items")).isEmpty();
    }

    @Test
    void anAddressThatKeepsFailingGets429WithoutDatabaseLookupsWhileAKnownKeyStillWorks() {
        Key valid = createKey("failing-address");
        assertThat(getAs(valid.secret(), "/checkpoints").statusCode()).isEqualTo(200);
        for (int i = 0; i < failureLimiter.perMinute(); i++) {
            assertThat(get("/checkpoints").statusCode()).as("failure %d", i + 1).isEqualTo(401);
        }
        HttpResponse<String> refused = get("/checkpoints");
        assertProblem(refused, 429, "too-many-requests");
        assertThat(refused.headers().firstValue("Retry-After")).isPresent();
        assertThat(json(refused).path("detail").asText()).contains("without a valid API key");

        long lookups = keys.lookups();
        assertProblem(getAs("csk_" + "B".repeat(43), "/checkpoints"), 429, "too-many-requests");
        assertThat(keys.lookups()).as("database lookups past the address's failures").isEqualTo(lookups);
        // A key this process verified recently still works from the same address.
        assertThat(getAs(valid.secret(), "/checkpoints").statusCode()).isEqualTo(200);
    }
}
