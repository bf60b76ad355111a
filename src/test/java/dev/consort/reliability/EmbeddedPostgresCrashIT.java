package dev.consort.reliability;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;
import java.util.stream.LongStream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.consort.support.WorkerProcess;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The service on its embedded default (its own PostgreSQL in its data directory), killed with SIGKILL during a
 * job, as a new user's {@code kill -9} would. First the JVM alone: its embedded server goes down with it. Then
 * the JVM and everything it started, so that the server is left running as an orphan holding
 * {@code postmaster.pid}: the next start on the same data directory shuts the orphan down and starts its own.
 * Either way the job resumes from its saved state and succeeds, with every step once.
 */
class EmbeddedPostgresCrashIT {

    private static final Logger log = LoggerFactory.getLogger(EmbeddedPostgresCrashIT.class);
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final int STEPS = 400;

    @TempDir
    Path dataDir;

    private WorkerProcess service(String name) {
        // A short lease, so that the dead service's job is requeued within seconds of the restart.
        return WorkerProcess.named(name).role("both").dataDir(dataDir)
                .leases(Duration.ofSeconds(3), Duration.ofMillis(500), Duration.ofMillis(200), Duration.ofSeconds(1))
                .start();
    }

    @Test
    void aKilledServicesEmbeddedServerDoesNotBlockTheRestartAndTheJobResumes() throws Exception {
        WorkerProcess first = service("embedded-first");
        String job = submit(first, "{\"type\": \"test.count\", \"spec\": {\"steps\": " + STEPS
                + ", \"step_millis\": 40, \"state_every\": 20}}");
        await(Duration.ofMinutes(2), () -> step(first, job) >= 60);

        // 1. SIGKILL of the JVM alone: the server it ran goes down with it.
        ProcessHandle firstServer = postmaster();
        first.kill();
        long killed = System.nanoTime();
        await(Duration.ofSeconds(60), () -> !firstServer.isAlive());
        double downAfter = (System.nanoTime() - killed) / 1e9;

        WorkerProcess second = service("embedded-second");
        await(Duration.ofMinutes(2), () -> step(second, job) >= 160);

        // 2. SIGKILL of the JVM and of every process it started: the server is left running, an orphan.
        ProcessHandle orphan = postmaster();
        List<ProcessHandle> children = ProcessHandle.of(second.pid()).orElseThrow().descendants().toList();
        children.forEach(ProcessHandle::destroyForcibly);
        second.kill();
        Thread.sleep(2_000);
        assertThat(orphan.isAlive()).as("the orphaned server still runs").isTrue();
        assertThat(dataDir.resolve("postgres").resolve("postmaster.pid")).exists();

        long restarted = System.nanoTime();
        WorkerProcess third = service("embedded-third");
        double readyAfter = (System.nanoTime() - restarted) / 1e9;
        assertThat(orphan.isAlive()).as("the restart shut the orphan down").isFalse();
        assertThat(third.log()).contains("was left running");
        await(Duration.ofMinutes(3), () -> "succeeded".equals(job(third, job).path("status").asString()));

        List<Long> steps = new ArrayList<>();
        for (JsonNode series : get(third, "/jobs/" + job + "/losses").path("series")) {
            if (series.path("name").asString().equals("train")) {
                series.path("points").forEach(point -> steps.add(point.path("step").asLong()));
            }
        }
        assertThat(steps).as("every step once").containsExactlyElementsOf(LongStream.rangeClosed(1, STEPS).boxed().toList());
        // Claimed by each of the three services in turn: the dead ones' leases were reaped, never a failure.
        assertThat(job(third, job).path("attempts").asInt()).isEqualTo(3);

        ProcessHandle lastServer = postmaster();
        third.terminate(Duration.ofMinutes(1));
        // A clean stop stops the server too (the service's own shutdown, or its watchdog just after).
        await(Duration.ofSeconds(60), () -> !lastServer.isAlive());
        log.info("RELIABILITY embedded-postgres-crash: server down {} s after the JVM's SIGKILL; with the server "
                + "orphaned, the restart was ready in {} s; job succeeded with {} steps once each", downAfter,
                readyAfter, steps.size());
    }

    private ProcessHandle postmaster() throws Exception {
        String pid = Files.readAllLines(dataDir.resolve("postgres").resolve("postmaster.pid"), StandardCharsets.UTF_8)
                .get(0).trim();
        return ProcessHandle.of(Long.parseLong(pid)).orElseThrow();
    }

    private static String submit(WorkerProcess service, String body) throws Exception {
        HttpResponse<String> response = HTTP.send(HttpRequest.newBuilder(uri(service, "/jobs"))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).as(response.body()).isEqualTo(201);
        return JSON.readTree(response.body()).path("id").asString();
    }

    private static JsonNode job(WorkerProcess service, String id) {
        return get(service, "/jobs/" + id);
    }

    private static long step(WorkerProcess service, String id) {
        return job(service, id).path("progress").path("step").asLong();
    }

    private static JsonNode get(WorkerProcess service, String path) {
        try {
            HttpResponse<String> response = HTTP.send(HttpRequest.newBuilder(uri(service, path)).GET().build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
            return JSON.readTree(response.body());
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static URI uri(WorkerProcess service, String path) {
        return URI.create("http://127.0.0.1:" + service.port() + path);
    }

    private static void await(Duration timeout, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("condition not met within " + timeout);
            }
            Thread.sleep(200);
        }
    }
}
