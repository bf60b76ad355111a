package dev.consort.web;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;

import org.junit.jupiter.api.Test;

import dev.consort.support.LowLimitsApiTest;
import dev.consort.support.Multipart;
import dev.consort.support.SlowUpload;
import dev.consort.support.TinyGpt2;

/**
 * Uploads beyond {@code consort.limits.concurrent-uploads} (2 here) are refused with a 503 problem and
 * {@code Retry-After} before their bodies are read, while the uploads in progress finish normally and a
 * freed slot takes the next one.
 */
class ConcurrentUploadLimitTest extends LowLimitsApiTest {

    private static Multipart checkpoint(long seed) {
        return Multipart.checkpoint(new TinyGpt2().seed(seed));
    }

    @Test
    void aThirdConcurrentUploadIsRefusedWith503AndRetryAfterAndTheSlowOnesStillSucceed() throws Exception {
        try (SlowUpload first = new SlowUpload(port, "/checkpoints", checkpoint(601), null);
             SlowUpload second = new SlowUpload(port, "/checkpoints", checkpoint(602), null)) {
            awaitUploadsInProgress(2);
            Traces before = traces();

            HttpResponse<String> refused = post("/checkpoints", checkpoint(603));

            assertThat(refused.statusCode()).as(refused.body()).isEqualTo(503);
            assertThat(refused.headers().firstValue("Retry-After")).hasValue("5");
            assertThat(refused.headers().firstValue("Content-Type")).hasValueSatisfying(
                    ct -> assertThat(ct).startsWith("application/problem+json"));
            assertThat(json(refused).path("type").asText()).isEqualTo("https://consort.dev/problems/capacity-exceeded");
            assertThat(json(refused).path("detail").asText()).contains("consort.limits.concurrent-uploads");
            assertThat(traces().checkpoints()).isEqualTo(before.checkpoints());
            // A dataset is an upload too; other requests are not limited.
            assertThat(post("/datasets", new Multipart().file("file", "a.txt", "x\n\ny".getBytes(StandardCharsets.UTF_8)))
                    .statusCode()).isEqualTo(503);
            assertThat(get("/checkpoints").statusCode()).isEqualTo(200);

            assertThat(first.finish()).isEqualTo(201);
            assertThat(second.finish()).isEqualTo(201);
        }
        awaitUploadsInProgress(0);
        HttpResponse<String> next = post("/checkpoints", checkpoint(603));
        assertThat(next.statusCode()).as(next.body()).isEqualTo(201);
    }
}
