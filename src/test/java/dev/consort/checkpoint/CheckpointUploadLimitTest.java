package dev.consort.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.http.HttpResponse;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import org.junit.jupiter.api.Test;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

import dev.consort.support.ApiTest;
import dev.consort.support.Multipart;
import dev.consort.support.TestDatabase;
import dev.consort.support.TinyGpt2;

/** The upload limit is consort.upload.max-bytes; lowered here (in a context of its own) to test it cheaply. */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
        properties = "consort.upload.max-bytes=64KB")
class CheckpointUploadLimitTest extends ApiTest {

    private static EmbeddedPostgres ownPostgres;

    /**
     * Without Docker every context would start the embedded PostgreSQL on the shared data directory,
     * which the first context holds locked; this second context gets a PostgreSQL of its own (stopped by
     * the library's shutdown hook).
     */
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
}
