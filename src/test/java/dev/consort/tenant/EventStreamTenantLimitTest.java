package dev.consort.tenant;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * One tenant may hold at most {@code consort.limits.event-streams-per-tenant} (20 by default) event streams
 * open: the next one is a 429 problem with {@code Retry-After}, while other tenants are unaffected, and the
 * tenant's streams that end give their slots back.
 */
class EventStreamTenantLimitTest extends TenantApiTest {

    private static final int PER_TENANT = 20;

    private final List<HttpResponse<InputStream>> opened = new ArrayList<>();

    @AfterEach
    void closeStreams() throws IOException {
        for (HttpResponse<InputStream> stream : opened) {
            stream.body().close();
        }
    }

    /** A job no worker here takes (they drive the CPU only), so it stays queued. */
    private String queuedJob(String key) {
        HttpResponse<String> created = postJsonAs(key, "/jobs",
                "{\"type\": \"test.count\", \"device\": \"gpu\", \"spec\": {\"steps\": 3}}");
        assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
        return json(created).path("id").asText();
    }

    private HttpResponse<InputStream> stream(String key, String job) throws Exception {
        HttpResponse<InputStream> response = HTTP.send(HttpRequest.newBuilder(uri("/jobs/" + job + "/events"))
                        .header("Authorization", "Bearer " + key).header("Accept", "text/event-stream")
                        .timeout(Duration.ofSeconds(60)).GET().build(),
                HttpResponse.BodyHandlers.ofInputStream());
        opened.add(response);
        return response;
    }

    @Test
    void theTwentyFirstStreamOfOneTenantIsRefusedWith429WhileOtherTenantsStream() throws Exception {
        String a = createKey("streams-a-" + UUID.randomUUID().toString().substring(0, 8)).secret();
        String b = createKey("streams-b-" + UUID.randomUUID().toString().substring(0, 8)).secret();
        String jobOfA = queuedJob(a);
        List<HttpResponse<InputStream>> streamsOfA = new ArrayList<>();
        for (int i = 0; i < PER_TENANT; i++) {
            HttpResponse<InputStream> open = stream(a, jobOfA);
            assertThat(open.statusCode()).as("stream %d", i + 1).isEqualTo(200);
            streamsOfA.add(open);
        }

        HttpResponse<InputStream> refused = stream(a, jobOfA);
        assertThat(refused.statusCode()).isEqualTo(429);
        assertThat(refused.headers().firstValue("Retry-After")).hasValue("5");
        assertThat(refused.headers().firstValue("Content-Type").orElse("")).startsWith("application/problem+json");
        try (InputStream body = refused.body()) {
            assertThat(new String(body.readAllBytes(), StandardCharsets.UTF_8))
                    .contains("https://consort.dev/problems/too-many-requests")
                    .contains("consort.limits.event-streams-per-tenant");
        }
        assertThat(stream(b, queuedJob(b)).statusCode()).isEqualTo(200);

        // Cancelling the queued job ends its streams, which gives A's slots back.
        assertThat(postJsonAs(a, "/jobs/" + jobOfA + "/cancel", "").statusCode()).isEqualTo(202);
        for (HttpResponse<InputStream> ended : streamsOfA) {
            try (InputStream body = ended.body()) {
                assertThat(new String(body.readAllBytes(), StandardCharsets.UTF_8)).contains("event:cancelled");
            }
        }
        assertThat(stream(a, queuedJob(a)).statusCode()).isEqualTo(200);
    }
}
