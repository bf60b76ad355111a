package dev.consort.tenant;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpResponse;
import java.util.UUID;

import org.junit.jupiter.api.Test;

import dev.consort.support.Multipart;
import dev.consort.support.SlowUpload;
import dev.consort.support.TinyGpt2;

/**
 * One tenant's uploads cannot take every upload permit (issue 16, item 4): past
 * {@code consort.limits.concurrent-uploads-per-tenant} (1 here) its next upload gets 429, while another tenant's
 * upload goes through.
 */
class TenantUploadPermitTest extends TenantApiTest {

    private static Multipart checkpoint(long seed) {
        return Multipart.checkpoint(new TinyGpt2().seed(seed));
    }

    @Test
    void aTenantTricklingAnUploadBlocksOnlyItsOwnNextUpload() throws Exception {
        Key slow = createKey("trickler-" + UUID.randomUUID().toString().substring(0, 8));
        Key other = createKey("neighbour-" + UUID.randomUUID().toString().substring(0, 8));
        try (SlowUpload trickle = new SlowUpload(port, "/checkpoints", checkpoint(801), slow.secret())) {
            awaitUploadsInProgress(1);
            HttpResponse<String> refused = postAs(slow.secret(), "/checkpoints", checkpoint(802));
            assertProblem(refused, 429, "too-many-requests");
            assertThat(refused.headers().firstValue("Retry-After")).isPresent();
            assertThat(json(refused).path("detail").asText()).contains("consort.limits.concurrent-uploads-per-tenant");

            HttpResponse<String> neighbours = postAs(other.secret(), "/checkpoints", checkpoint(803));
            assertThat(neighbours.statusCode()).as(neighbours.body()).isEqualTo(201);
            assertThat(trickle.finish()).isEqualTo(201);
        }
        HttpResponse<String> next = postAs(slow.secret(), "/checkpoints", checkpoint(804));
        assertThat(next.statusCode()).as(next.body()).isEqualTo(201);
    }
}
