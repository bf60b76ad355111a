package dev.consort.web;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpResponse;

import org.junit.jupiter.api.Test;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

import dev.consort.support.ApiTest;
import dev.consort.support.Multipart;
import dev.consort.support.TestDatabase;
import dev.consort.support.TinyGpt2;
import dev.consort.support.TrickleUpload;

/**
 * Uploads that trickle in below {@code consort.limits.request-body-min-rate} (32 KB/s here, after a 1 s grace) are
 * cut off with 408 {@code request-timeout}, so two trickling clients cannot hold this process's two upload permits
 * for as long as they like (issue 16, item 4): once they are cut off, the next upload goes through.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = {
        "consort.role=api",
        "consort.limits.concurrent-uploads=2",
        "consort.limits.request-body-min-rate=32KB",
        "consort.limits.request-body-rate-grace=1s"})
class RequestBodyRateTest extends ApiTest {

    @DynamicPropertySource
    static void ownDatabase(DynamicPropertyRegistry registry) {
        TestDatabase.useOwnDatabase(registry, "body-rate");
    }

    private static Multipart checkpoint(long seed) {
        return Multipart.checkpoint(new TinyGpt2().seed(seed));
    }

    @Test
    void tricklingUploadsAreCutOffWith408AndFreeTheirPermits() throws Exception {
        long checkpoints = jdbc.queryForObject("select count(*) from checkpoint", Long.class);
        Multipart form = checkpoint(801);
        int length = form.toBytes().length;
        assertThat(length).as("a body that takes half a minute at the trickle's rate").isGreaterThan(10_000);
        try (TrickleUpload first = new TrickleUpload(port, "/checkpoints", form, 32, 100);
             TrickleUpload second = new TrickleUpload(port, "/checkpoints", checkpoint(802), 32, 100)) {
            awaitUploadsInProgress(2);
            assertThat(post("/checkpoints", checkpoint(803)).statusCode()).as("both permits held").isEqualTo(503);

            assertThat(first.status()).as(first.response()).isEqualTo(408);
            assertThat(first.response()).contains("https://consort.dev/problems/request-timeout")
                    .contains("consort.limits.request-body-min-rate");
            // Answered and closed without reading the rest of the trickle.
            assertThat(first.sent()).isLessThan(length);
            assertThat(second.status()).isEqualTo(408);
        }
        awaitUploadsInProgress(0);
        assertThat(jdbc.queryForObject("select count(*) from checkpoint", Long.class)).isEqualTo(checkpoints);
        HttpResponse<String> next = post("/checkpoints", checkpoint(803));
        assertThat(next.statusCode()).as(next.body()).isEqualTo(201);
    }

    @Test
    void aBodyAtAFairRateIsNotCutOff() {
        HttpResponse<String> response = post("/checkpoints", checkpoint(804));
        assertThat(response.statusCode()).as(response.body()).isEqualTo(201);
    }
}
