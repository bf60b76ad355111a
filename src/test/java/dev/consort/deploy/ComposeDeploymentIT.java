package dev.consort.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

import dev.consort.support.Multipart;
import dev.consort.support.TinyGpt2;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The repository's {@code docker-compose.yml}, run for real: PostgreSQL, the service (api and worker) and the extra
 * worker, from the image {@code docker build} made, with {@code docker/ci/compose.ci.yml} (host networking, local base
 * images). Everything talks over loopback. Run by {@code .ci/run} after {@code docker/local-images.sh} and the image
 * build ({@code mvn -Pcompose failsafe:integration-test}), never by the unit suite.
 *
 * <p>Through the published port: health, a checkpoint, a dataset, two finetunes running at once in the two worker
 * containers, the container running one of them killed mid-run and started again (the job resumes from its saved
 * state, each step once), a merge, a CKA job and the dashboard page; then {@code down} and {@code up}: the data
 * survived in the volumes.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ComposeDeploymentIT {

    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private static final String PROJECT = "consort-ci";
    private static final String ADMIN_KEY = "compose-ci-admin-key-0123456789abcdef0123456789abcdef";
    private static final String BASE = "http://127.0.0.1:8080";
    /** Long enough to be killed mid-run; a saved state every STATE_EVERY steps. */
    private static final int STEPS = 400;
    private static final int STATE_EVERY = 25;

    private final Path projectDir = Path.of(System.getProperty("consort.compose.project-dir", ".")).toAbsolutePath();
    private final String compose = System.getProperty("consort.compose.command", "docker-compose");
    private final Path logs = Path.of(System.getProperty("consort.test.logs", "target/compose-logs"));

    /** A tenant's key, made with the admin key: the admin key itself only manages keys. */
    private String apiKey;
    private String base;
    private byte[] baseWeights;
    private String dataset;
    private final List<String> finetunes = new ArrayList<>();
    private final Set<String> checkpoints = new HashSet<>();

    @BeforeAll
    void up() throws Exception {
        Files.createDirectories(logs);
        composeOk("down", "-v", "--remove-orphans");
        composeOk("--profile", "workers", "up", "-d", "--no-build");
        awaitReady(Duration.ofMinutes(3));
        HttpResponse<String> key = send(HttpRequest.newBuilder(URI.create(BASE + "/admin/keys"))
                .header("Authorization", "Bearer " + ADMIN_KEY).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"tenant\": \"compose-ci\", \"name\": \"ci\", "
                        + "\"rate_limit_per_minute\": 100000}")));
        assertThat(key.statusCode()).as(key.body()).isEqualTo(201);
        apiKey = json(key).path("key").asText();
    }

    @AfterAll
    void down() throws Exception {
        composeLogs("final");
        composeOk("--profile", "workers", "down", "-v", "--remove-orphans");
    }

    @Test
    @Order(1)
    void healthAndTheDashboardPage() {
        assertThat(get("/actuator/health/readiness").statusCode()).isEqualTo(200);
        HttpResponse<String> page = send(HttpRequest.newBuilder(URI.create(BASE + "/")).GET());
        assertThat(page.statusCode()).isEqualTo(200);
        assertThat(page.body()).contains("<title>Consort");
        // Without a key the API refuses: the compose file runs it with CONSORT_ADMIN_KEY.
        HttpResponse<String> anonymous = send(HttpRequest.newBuilder(URI.create(BASE + "/checkpoints")).GET());
        assertThat(anonymous.statusCode()).isEqualTo(401);
    }

    @Test
    @Order(2)
    void aCheckpointAndADatasetAreUploaded() {
        TinyGpt2 tiny = new TinyGpt2().vocab(50257).seed(17);
        tiny.nEmbd = 16;
        tiny.nPositions = 32;
        baseWeights = tiny.weights();
        HttpResponse<String> created = post("/checkpoints", Multipart.checkpoint(tiny).field("name", "compose-base"));
        assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
        base = json(created).path("id").asText();
        checkpoints.add(base);
        HttpResponse<String> data = post("/datasets", Multipart.repeatedTextDataset(200));
        assertThat(data.statusCode()).as(data.body()).isEqualTo(201);
        dataset = json(data).path("id").asText();
    }

    @Test
    @Order(3)
    void twoWorkerContainersShareTheQueueAndAKilledOneResumesFromItsSavedState() throws Exception {
        for (int seed = 0; seed < 2; seed++) {
            HttpResponse<String> submitted = postJson("/jobs", """
                    {"type": "finetune", "spec": {"base_checkpoint_id": "%s", "dataset_id": "%s",
                      "training": {"steps": %d, "batch_size": 2, "context": 16, "learning_rate": 0.001, "seed": %d,
                                   "eval_every": %d, "state_every": %d, "checkpoint_every": %d}}}"""
                    .formatted(base, dataset, STEPS, seed, STEPS, STATE_EVERY, STEPS));
            assertThat(submitted.statusCode()).as(submitted.body()).isEqualTo(201);
            finetunes.add(json(submitted).path("id").asText());
        }
        // Each container runs one job at a time (one cpu device), so two at once means both containers took one.
        await(Duration.ofMinutes(2), "both finetunes running", () -> finetunes.stream()
                .allMatch(job -> "running".equals(json(get("/jobs/" + job)).path("status").asText())));
        String workerContainer = containerId("worker");
        String workerNamespace = pidNamespace(workerContainer);
        String onWorker = null;
        Set<String> workers = new HashSet<>();
        for (String job : finetunes) {
            String worker = startedOn(job);
            workers.add(worker);
            if (worker.contains("-pidns" + workerNamespace + ":")) {
                onWorker = job;
            }
        }
        assertThat(workers).as("the workers that took the two jobs").hasSize(2);
        assertThat(onWorker).as("the job the worker container runs, among " + workers).isNotNull();

        // Killed once it has saved a state and before it ends.
        String killed = onWorker;
        await(Duration.ofMinutes(3), "a saved state", () -> json(get("/jobs/" + killed)).path("progress")
                .path("step").asLong() >= 2L * STATE_EVERY);
        long stepAtKill = json(get("/jobs/" + killed)).path("progress").path("step").asLong();
        assertThat(stepAtKill).as("killed mid-run").isLessThan(STEPS);
        docker("kill", workerContainer);
        docker("start", workerContainer);

        for (String job : finetunes) {
            JsonNode done = awaitFinished(job, Duration.ofMinutes(6));
            assertThat(done.path("status").asText()).as(done.toString()).isEqualTo("succeeded");
            checkpoints.add(done.path("result").path("checkpoints").get(0).path("checkpoint_id").asText());
        }
        List<JsonNode> events = events(killed);
        List<String> kinds = events.stream().map(e -> e.path("kind").asText()).toList();
        assertThat(kinds).as("the killed job's events").contains("resumed");
        long resumedAt = events.stream().filter(e -> e.path("kind").asText().equals("resumed")).findFirst()
                .orElseThrow().path("data").path("step").asLong();
        assertThat(resumedAt).as("resumed from a saved state").isGreaterThanOrEqualTo(STATE_EVERY);
        // Every step's training loss once, however many attempts ran it.
        JsonNode train = json(get("/jobs/" + killed + "/losses?series=train&max_points=100000")).path("series").get(0);
        List<Long> steps = train.path("points").valueStream().map(p -> p.path("step").asLong()).toList();
        assertThat(steps).doesNotHaveDuplicates().hasSize(STEPS);
    }

    @Test
    @Order(4)
    void aMergeAndACkaJobRunInTheContainers() {
        String[] experts = finetunes.stream().map(job -> json(get("/jobs/" + job)).path("result").path("checkpoints")
                .get(0).path("checkpoint_id").asText()).toArray(String[]::new);
        JsonNode merge = run("""
                {"type": "merge", "spec": {"base_checkpoint_id": "%s", "expert_ids": ["%s", "%s"],
                  "eval_dataset_ids": ["%s"], "evaluation": {"context": 32, "max_windows": 4},
                  "methods": [{"method": "linear", "parameters": {"weight": 0.5}}, {"method": "ties",
                    "parameters": {"density": 0.5}, "model_parameters": [{"weight": 1}, {"weight": 1}]}]}}"""
                .formatted(base, experts[0], experts[1], dataset));
        assertThat(merge.path("result").path("rows").size()).isEqualTo(5);               // base, 2 experts, 2 merges
        JsonNode cka = run("""
                {"type": "cka", "spec": {"model_a_id": "%s", "model_b_id": "%s", "dataset_id": "%s",
                  "context": 32, "windows": 8}}""".formatted(experts[0], experts[1], dataset));
        assertThat(cka.path("status").asText()).isEqualTo("succeeded");
        HttpResponse<String> matrix = get("/jobs/" + cka.path("id").asText() + "/cka");
        assertThat(matrix.statusCode()).as(matrix.body()).isEqualTo(200);
    }

    @Test
    @Order(5)
    void theDataSurvivesDownAndUp() throws Exception {
        composeLogs("before-down");
        composeOk("--profile", "workers", "down");
        composeOk("--profile", "workers", "up", "-d", "--no-build");
        awaitReady(Duration.ofMinutes(3));
        for (String checkpoint : checkpoints) {
            assertThat(get("/checkpoints/" + checkpoint).statusCode()).as(checkpoint).isEqualTo(200);
        }
        HttpResponse<byte[]> weights = sendBytes(HttpRequest.newBuilder(URI.create(BASE + "/checkpoints/" + base
                + "/model.safetensors")).header("Authorization", "Bearer " + apiKey).GET());
        assertThat(weights.statusCode()).isEqualTo(200);
        assertThat(sha256(weights.body())).isEqualTo(sha256(baseWeights));
        for (String job : finetunes) {
            assertThat(json(get("/jobs/" + job)).path("status").asText()).isEqualTo("succeeded");
        }
    }

    // ---- the job's worker, from its last start event ------------------------------------------------------------

    private String startedOn(String job) {
        return events(job).stream().filter(e -> e.path("kind").asText().equals("started")).reduce((a, b) -> b)
                .orElseThrow().path("data").path("worker").asText();
    }

    /** All of a job's events, page after page. */
    private List<JsonNode> events(String job) {
        List<JsonNode> events = new ArrayList<>();
        String after = "0";
        while (true) {
            JsonNode page = json(get("/jobs/" + job + "/events?limit=500&after=" + after));
            page.path("items").forEach(events::add);
            if (!page.path("has_more").asBoolean()) {
                return events;
            }
            after = page.path("next_after").asText();
        }
    }

    /** The id of the PID namespace of a container's main process, as the worker names itself ({@code -pidns<id>}). */
    private String pidNamespace(String container) throws Exception {
        String pid = docker("inspect", "-f", "{{.State.Pid}}", container).trim();
        return Files.readSymbolicLink(Path.of("/proc", pid, "ns", "pid")).toString().replaceAll("[^0-9]", "");
    }

    private String containerId(String service) throws Exception {
        String id = composeOk("ps", "-q", service).trim();
        assertThat(id).as("the " + service + " container").isNotEmpty();
        return id;
    }

    // ---- compose and docker -------------------------------------------------------------------------------------

    private String composeOk(String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of(compose.split(" ")));
        command.addAll(List.of("-p", PROJECT, "-f", "docker-compose.yml", "-f", "docker/ci/compose.ci.yml"));
        command.addAll(List.of(args));
        return run(command);
    }

    private String docker(String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of("docker"));
        command.addAll(List.of(args));
        return run(command);
    }

    private String run(List<String> command) throws Exception {
        ProcessBuilder builder = new ProcessBuilder(command).directory(projectDir.toFile()).redirectErrorStream(true);
        builder.environment().put("CONSORT_ADMIN_KEY", ADMIN_KEY);
        Process process = builder.start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(process.waitFor(5, TimeUnit.MINUTES)).as(String.join(" ", command)).isTrue();
        assertThat(process.exitValue()).as(String.join(" ", command) + "\n" + output).isZero();
        return output;
    }

    private void composeLogs(String when) {
        try {
            Files.writeString(logs.resolve("compose-" + when + ".log"), composeOk("--profile", "workers", "logs",
                    "--no-color"));
        } catch (Exception e) {
            // Logs are for reading a failure; their absence must not hide it.
        }
    }

    // ---- HTTP --------------------------------------------------------------------------------------------------

    private void awaitReady(Duration timeout) {
        await(timeout, "the service ready", () -> {
            try {
                return HTTP.send(HttpRequest.newBuilder(URI.create(BASE + "/actuator/health/readiness"))
                        .timeout(Duration.ofSeconds(5)).GET().build(), HttpResponse.BodyHandlers.discarding())
                        .statusCode() == 200;
            } catch (IOException e) {
                return false;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        });
    }

    private JsonNode run(String body) {
        HttpResponse<String> submitted = postJson("/jobs", body);
        assertThat(submitted.statusCode()).as(submitted.body()).isEqualTo(201);
        JsonNode done = awaitFinished(json(submitted).path("id").asText(), Duration.ofMinutes(5));
        assertThat(done.path("status").asText()).as(done.toString()).isEqualTo("succeeded");
        return done;
    }

    private JsonNode awaitFinished(String job, Duration timeout) {
        JsonNode[] last = new JsonNode[1];
        await(timeout, "job " + job + " finished", () -> {
            last[0] = json(get("/jobs/" + job));
            return List.of("succeeded", "failed", "cancelled").contains(last[0].path("status").asText());
        });
        return last[0];
    }

    private HttpResponse<String> get(String path) {
        return send(authorized(path).GET());
    }

    private HttpResponse<String> postJson(String path, String body) {
        return send(authorized(path).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)));
    }

    private HttpResponse<String> post(String path, Multipart form) {
        return send(authorized(path).header("Content-Type", form.contentType()).POST(form.publisher()));
    }

    private HttpRequest.Builder authorized(String path) {
        return HttpRequest.newBuilder(URI.create(BASE + path)).header("Authorization", "Bearer " + apiKey);
    }

    private static HttpResponse<String> send(HttpRequest.Builder request) {
        try {
            return HTTP.send(request.timeout(Duration.ofSeconds(60)).build(), HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static HttpResponse<byte[]> sendBytes(HttpRequest.Builder request) {
        try {
            return HTTP.send(request.timeout(Duration.ofSeconds(60)).build(), HttpResponse.BodyHandlers.ofByteArray());
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static JsonNode json(HttpResponse<String> response) {
        return JSON.readTree(response.body());
    }

    private static String sha256(byte[] bytes) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    }

    private static void await(Duration timeout, String what, BooleanSupplier condition) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            assertThat(System.nanoTime()).as("waiting for " + what).isLessThan(deadline);
            try {
                Thread.sleep(500);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }
    }
}
