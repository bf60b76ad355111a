package dev.consort.support;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.testcontainers.postgresql.PostgreSQLContainer;

import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Base of the HTTP tests: the whole application on a random port against a real PostgreSQL, driven
 * with plain {@link HttpClient} calls as a user's client would.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
public abstract class ApiTest {

    protected static final JsonMapper JSON = JsonMapper.builder().build();
    protected static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

    @LocalServerPort
    protected int port;

    @Autowired
    protected JdbcTemplate jdbc;

    @DynamicPropertySource
    static void database(DynamicPropertyRegistry registry) {
        registry.add("consort.data-dir", () -> TestDatabase.dataDirFor(registry).toString());
        PostgreSQLContainer container = TestDatabase.container();
        if (container != null) {
            registry.add("spring.datasource.url", container::getJdbcUrl);
            registry.add("spring.datasource.username", container::getUsername);
            registry.add("spring.datasource.password", container::getPassword);
        }
    }

    protected URI uri(String path) {
        return URI.create("http://localhost:" + port + path);
    }

    protected HttpResponse<String> send(HttpRequest.Builder request) {
        try {
            return HTTP.send(request.timeout(Duration.ofSeconds(120)).build(), HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    protected HttpResponse<String> get(String path) {
        return send(HttpRequest.newBuilder(uri(path)).GET());
    }

    protected HttpResponse<String> get(String path, String accept) {
        return send(HttpRequest.newBuilder(uri(path)).header("Accept", accept).GET());
    }

    protected HttpResponse<byte[]> getBytes(String path) {
        try {
            return HTTP.send(HttpRequest.newBuilder(uri(path)).timeout(Duration.ofSeconds(120)).GET().build(),
                    HttpResponse.BodyHandlers.ofByteArray());
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    protected HttpResponse<String> postJson(String path, String json) {
        return send(HttpRequest.newBuilder(uri(path)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(json)));
    }

    protected HttpResponse<String> post(String path, Multipart form) {
        return send(HttpRequest.newBuilder(uri(path)).header("Content-Type", form.contentType())
                .POST(form.publisher()));
    }

    protected HttpResponse<String> delete(String path) {
        return send(HttpRequest.newBuilder(uri(path)).DELETE());
    }

    protected static JsonNode json(HttpResponse<String> response) {
        try {
            return JSON.readTree(response.body());
        } catch (JacksonException e) {
            throw new AssertionError("not JSON (" + response.statusCode() + "): " + response.body(), e);
        }
    }

    /** Uploads the process is receiving, validating or storing now (the {@code consort_uploads_in_progress} gauge). */
    protected double uploadsInProgress() {
        return get("/actuator/prometheus").body().lines().filter(l -> l.startsWith("consort_uploads_in_progress "))
                .mapToDouble(l -> Double.parseDouble(l.substring(l.indexOf(' ') + 1))).findFirst().orElseThrow();
    }

    /** Waits until {@code expected} uploads are in progress (slow ones hold their permits); fails after a minute. */
    protected void awaitUploadsInProgress(double expected) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofMinutes(1).toNanos();
        while (uploadsInProgress() != expected) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("waiting for " + expected + " uploads in progress, " + uploadsInProgress());
            }
            Thread.sleep(50);
        }
    }

    /**
     * A question-and-answer dataset (all training data) whose right answers are known: three records whose answer is
     * {@code checkpoint}'s own greedy first line after the prompt (4 tokens at most, plain text), then two it cannot
     * give. Read with exact_match's {@code answer_marker: ""} and {@code max_tokens: 4}, the checkpoint scores 3 of 5.
     */
    protected String greedyAnswersDataset(String checkpoint) {
        List<String> right = new ArrayList<>();
        for (int i = 0; right.size() < 3 && i < 40; i++) {
            String prompt = "Question " + i + "\n";
            String text = json(postJson("/checkpoints/" + checkpoint + "/completions", JSON.writeValueAsString(
                    Map.of("prompt", prompt, "max_tokens", 4, "temperature", 0))))
                    .path("choices").get(0).path("text").asText();
            String line = text.split("\n", -1)[0].trim();
            if (!line.isEmpty() && line.matches("[ -~]+")) {
                right.add(prompt + line);
            }
        }
        assertThat(right).as("prompts with a plain-text greedy answer").hasSize(3);
        String records = String.join("\n\n", right) + "\n\nQuestion A\nnot what it says\n\nQuestion B\nnor this\n";
        HttpResponse<String> dataset = post("/datasets", new Multipart()
                .file("file", "qa.txt", records.getBytes(StandardCharsets.UTF_8)).field("val_fraction", "0"));
        assertThat(dataset.statusCode()).as(dataset.body()).isEqualTo(201);
        return json(dataset).path("id").asText();
    }

    /** A dataset of one record, {@code text}, all of it training data. */
    protected String wholeTextDataset(String file, String text) {
        HttpResponse<String> response = post("/datasets", new Multipart()
                .file("file", file, text.getBytes(java.nio.charset.StandardCharsets.UTF_8)).field("txt_mode", "whole")
                .field("val_fraction", "0"));
        assertThat(response.statusCode()).as(response.body()).isEqualTo(201);
        return json(response).path("id").asText();
    }

    /** Submits a job and waits for it to succeed; returns its view. */
    protected JsonNode runJob(String body, Duration timeout) {
        HttpResponse<String> created = postJson("/jobs", body);
        assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
        return awaitSuccess(json(created).path("id").asText(), timeout);
    }

    /** A tiny specialist: {@code base} fine-tuned 15 steps (MLPs only) on {@code dataset}; returns its checkpoint. */
    protected String quickFinetune(String base, String dataset, Duration timeout) {
        JsonNode job = runJob("""
                {"type": "finetune", "spec": {"base_checkpoint_id": "%s", "dataset_id": "%s",
                  "training": {"steps": 15, "batch_size": 4, "context": 16, "learning_rate": 0.01}}}"""
                .formatted(base, dataset), timeout);
        return job.path("result").path("checkpoints").get(0).path("checkpoint_id").asText();
    }

    /** Polls job {@code id} until its status is one of {@code statuses}; fails after {@code timeout}. */
    protected JsonNode awaitJob(String id, Duration timeout, String... statuses) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            JsonNode job = json(get("/jobs/" + id));
            for (String status : statuses) {
                if (status.equals(job.path("status").asText())) {
                    return job;
                }
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("job " + id + " still " + job.path("status") + ": " + job);
            }
            pause();
        }
    }

    /** Polls job {@code id} until it succeeds; fails at once if it ends any other way, or after {@code timeout}. */
    protected JsonNode awaitSuccess(String id, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            JsonNode job = json(get("/jobs/" + id));
            String status = job.path("status").asText();
            if (status.equals("succeeded")) {
                return job;
            }
            assertThat(status).as(job.toString()).isIn("queued", "running");
            assertThat(System.nanoTime()).as("job " + id + " finished in time").isLessThan(deadline);
            pause();
        }
    }

    private static void pause() {
        try {
            Thread.sleep(100);
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        }
    }
}
