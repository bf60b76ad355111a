package dev.consort.checkpoint;

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

/**
 * The upload limits are consort.upload.max-bytes per file and consort.upload.max-request-bytes per request; lowered
 * here (in a context of its own) to test them cheaply.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
        properties = {"consort.upload.max-bytes=64KB", "consort.upload.max-request-bytes=100KB"})
class CheckpointUploadLimitTest extends ApiTest {

    @DynamicPropertySource
    static void ownDatabase(DynamicPropertyRegistry registry) {
        TestDatabase.useOwnDatabase(registry, "upload-limit");
    }

    @Test
    void weightsOverTheLimitArePayloadTooLarge() {
        TinyGpt2 model = new TinyGpt2().vocab(4096);
        byte[] weights = model.weights();
        assertThat(weights.length).isGreaterThan(64 * 1024);
        int before = jdbc.queryForObject("select count(*) from checkpoint", Integer.class);

        HttpResponse<String> response = post("/checkpoints", new Multipart()
                .file("config", "config.json", model.config())
                .file("weights", "model.safetensors", weights));

        assertThat(response.statusCode()).as(response.body()).isEqualTo(413);
        assertThat(response.headers().firstValue("Content-Type")).hasValueSatisfying(
                ct -> assertThat(ct).startsWith("application/problem+json"));
        assertThat(json(response).path("type").asText()).isEqualTo("https://consort.dev/problems/payload-too-large");
        assertThat(jdbc.queryForObject("select count(*) from checkpoint", Integer.class)).isEqualTo(before);
    }

    @Test
    void weightsUnderTheLimitAreAccepted() {
        TinyGpt2 model = new TinyGpt2().vocab(16).seed(77);
        assertThat(model.weights().length).isLessThan(64 * 1024);
        HttpResponse<String> response = post("/checkpoints", new Multipart()
                .file("config", "config.json", model.config())
                .file("weights", "model.safetensors", model.weights()));
        assertThat(response.statusCode()).as(response.body()).isEqualTo(201);
    }

    @Test
    void aRequestOverTheTotalLimitIsPayloadTooLargeThoughEachFileFits() {
        TinyGpt2 model = new TinyGpt2().vocab(16).seed(78);
        byte[] filler = new byte[60 * 1024];
        java.util.Arrays.fill(filler, (byte) 'a');
        int before = jdbc.queryForObject("select count(*) from checkpoint", Integer.class);
        HttpResponse<String> response = post("/checkpoints", new Multipart()
                .file("config", "config.json", model.config())
                .file("weights", "model.safetensors", model.weights())
                .file("extra", "filler.bin", filler)
                .file("more", "filler2.bin", filler));
        assertThat(response.statusCode()).as(response.body()).isEqualTo(413);
        assertThat(json(response).path("type").asText()).isEqualTo("https://consort.dev/problems/payload-too-large");
        assertThat(json(response).path("detail").asText()).contains("consort.upload.max-request-bytes");
        assertThat(jdbc.queryForObject("select count(*) from checkpoint", Integer.class)).isEqualTo(before);
    }
}
