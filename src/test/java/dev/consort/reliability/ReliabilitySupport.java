package dev.consort.reliability;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.function.BooleanSupplier;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterEach;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.core.env.Environment;

import dev.consort.database.DatabaseUnavailable;
import dev.consort.safetensors.SafetensorsHeader;
import dev.consort.storage.BlobSweeper;
import dev.consort.support.Multipart;
import dev.consort.support.TestDatabase;
import dev.consort.support.TinyGpt2;
import dev.consort.support.WorkerProcess;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * What the process-level scenarios share. The test JVM runs the API (role {@code api}, with a lease
 * reaper, as an API pod would); workers are separate JVMs ({@link WorkerProcess}) on the same
 * PostgreSQL and data directory, killed and stopped with real signals. Afterwards the data directory
 * is audited: no staging or scratch file, no blob without a row and a reference, no checkpoint whose
 * bytes do not hash to its name.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
        properties = {"consort.role=api", "consort.worker.reaper-interval=1s"})
abstract class ReliabilitySupport {

    static final Logger log = LoggerFactory.getLogger(ReliabilitySupport.class);
    static final JsonMapper JSON = JsonMapper.builder().build();
    static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

    /*
     * Not an ApiTest: its @DynamicPropertySource would register the shared data directory after the
     * subclass's own (superclass methods run last), and these tests audit a data directory of their own.
     */
    @LocalServerPort
    int port;
    @Autowired
    JdbcTemplate jdbc;
    @Autowired
    Environment environment;
    @Autowired
    BlobSweeper sweeper;

    private static final Map<String, EmbeddedPostgres> DATABASES = new HashMap<>();

    private final List<WorkerProcess> workers = new ArrayList<>();

    /**
     * A PostgreSQL and a data directory of the test class's own (even where Docker would offer a shared
     * database): the audit compares this database's blob rows with this directory's files.
     */
    static void ownDatabaseAndDataDir(DynamicPropertyRegistry registry, String key) {
        registry.add("consort.data-dir", () -> TestDatabase.dataDir().resolve("reliability-" + key).toString());
        registry.add("spring.datasource.url", () -> database(key).getJdbcUrl("postgres", "postgres"));
        registry.add("spring.datasource.username", () -> "postgres");
    }

    private static synchronized EmbeddedPostgres database(String key) {
        return DATABASES.computeIfAbsent(key, k -> {
            try {
                return EmbeddedPostgres.builder().setPGStartupWait(Duration.ofMinutes(1)).start();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
    }

    @AfterEach
    void stopWorkers() {
        workers.forEach(WorkerProcess::close);
        workers.clear();
    }

    Path dataDir() {
        return Path.of(environment.getRequiredProperty("consort.data-dir")).toAbsolutePath();
    }

    /** A worker JVM on this test's database and data directory. */
    WorkerProcess.Builder worker(String name) {
        return WorkerProcess.named(name)
                .database(environment.getRequiredProperty("spring.datasource.url"),
                        environment.getProperty("spring.datasource.username", "postgres"),
                        environment.getProperty("spring.datasource.password"))
                .dataDir(dataDir());
    }

    /** A worker with a 3 s lease, so a job whose worker died or stopped is requeued within seconds. */
    WorkerProcess.Builder shortLeases(String name) {
        return worker(name).leases(Duration.ofSeconds(3), Duration.ofMillis(500), Duration.ofMillis(200),
                Duration.ofSeconds(1));
    }

    WorkerProcess started(WorkerProcess.Builder builder) {
        WorkerProcess worker = builder.start();
        workers.add(worker);
        log.info("Worker {} is pid {}, logging to {}", worker.name(), worker.pid(), worker.logFile());
        return worker;
    }

    // ---- HTTP, as a client would ----

    URI uri(String path) {
        return URI.create("http://localhost:" + port + path);
    }

    HttpResponse<String> send(HttpRequest.Builder request) {
        try {
            return HTTP.send(request.timeout(Duration.ofSeconds(120)).build(), HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    HttpResponse<String> get(String path) {
        return send(HttpRequest.newBuilder(uri(path)).GET());
    }

    HttpResponse<String> postJson(String path, String json) {
        return send(HttpRequest.newBuilder(uri(path)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(json)));
    }

    HttpResponse<String> post(String path, Multipart form) {
        return send(HttpRequest.newBuilder(uri(path)).header("Content-Type", form.contentType())
                .POST(form.publisher()));
    }

    static JsonNode json(HttpResponse<String> response) {
        try {
            return JSON.readTree(response.body());
        } catch (JacksonException e) {
            throw new AssertionError("not JSON (" + response.statusCode() + "): " + response.body(), e);
        }
    }

    // ---- inputs ----

    /** A tiny GPT-2 (2 layers, 8 wide) with the real vocabulary, so any tokenized text fits it. */
    String uploadTinyCheckpoint(long seed) {
        TinyGpt2 model = new TinyGpt2().vocab(50257).seed(seed);
        HttpResponse<String> upload = post("/checkpoints", new Multipart()
                .file("config", "config.json", model.config())
                .file("weights", "model.safetensors", model.weights()));
        assertThat(upload.statusCode()).as(upload.body()).isEqualTo(201);
        return json(upload).path("id").asText();
    }

    String uploadTextDataset(int records) {
        HttpResponse<String> response = post("/datasets", Multipart.repeatedTextDataset(records));
        assertThat(response.statusCode()).as(response.body()).isEqualTo(201);
        return json(response).path("id").asText();
    }

    UUID submit(String body) {
        HttpResponse<String> response = postJson("/jobs", body);
        assertThat(response.statusCode()).as(response.body()).isEqualTo(201);
        return UUID.fromString(json(response).path("id").asText());
    }

    static String finetune(String base, String dataset, int steps, int evalEvery, int checkpointEvery, int stateEvery) {
        return """
                {"type": "finetune", "spec": {"base_checkpoint_id": "%s", "dataset_id": "%s",
                  "training": {"steps": %d, "batch_size": 2, "context": 8, "eval_every": %d, "eval_windows": 2,
                               "checkpoint_every": %d, "state_every": %d}}}"""
                .formatted(base, dataset, steps, evalEvery, checkpointEvery, stateEvery);
    }

    // ---- what the database says about a job ----

    String status(UUID job) {
        return jdbc.queryForObject("select status from job where id = ?", String.class, job);
    }

    int attempts(UUID job) {
        return jdbc.queryForObject("select attempts from job where id = ?", Integer.class, job);
    }

    List<Long> steps(UUID job, String series) {
        return jdbc.queryForList("select step from loss_point where job_id = ? and series = ? order by step",
                Long.class, job, series);
    }

    long lastStep(UUID job) {
        Long step = jdbc.queryForObject("select max(step) from loss_point where job_id = ? and series = 'train'",
                Long.class, job);
        return step == null ? 0 : step;
    }

    List<String> eventKinds(UUID job) {
        return jdbc.queryForList("select kind from job_event where job_id = ? order by id", String.class, job);
    }

    long events(UUID job, String kind) {
        return jdbc.queryForObject("select count(*) from job_event where job_id = ? and kind = ?", Long.class, job, kind);
    }

    /** The {@code step} of the job's last event of {@code kind} (resumed, state_saved, ...). */
    long eventStep(UUID job, String kind) {
        return jdbc.queryForObject("""
                select (data ->> 'step')::bigint from job_event where job_id = ? and kind = ?
                order by id desc limit 1""", Long.class, job, kind);
    }

    List<Long> checkpointSteps(UUID job) {
        return jdbc.queryForList("select step from checkpoint where producing_job_id = ? order by step", Long.class, job);
    }

    boolean hasSavedState(UUID job) {
        return jdbc.queryForObject("select count(*) from blob_ref where owner_kind = 'job' and owner_id = ?",
                Integer.class, job) > 0;
    }

    /** The step recorded in the job's saved training state (its safetensors metadata). */
    long savedStateStep(UUID job) throws IOException {
        String sha = jdbc.queryForObject("select sha256 from blob_ref where owner_kind = 'job' and owner_id = ?",
                String.class, job);
        return Long.parseLong(SafetensorsHeader.read(blobFile(sha)).metadata().get("step"));
    }

    // ---- waiting ----

    /** Polls {@code condition}; a probe that finds the database unreachable (it is being restarted) counts as "not yet". */
    static void await(Duration timeout, String what, BooleanSupplier condition) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!holds(condition)) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("not within " + timeout + ": " + what);
            }
            pause(Duration.ofMillis(50));
        }
    }

    private static boolean holds(BooleanSupplier condition) {
        try {
            return condition.getAsBoolean();
        } catch (RuntimeException e) {
            if (DatabaseUnavailable.isCause(e)) {
                return false;
            }
            throw e;
        }
    }

    static void pause(Duration duration) {
        try {
            Thread.sleep(duration.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    static double secondsSince(long nanoTime) {
        return Math.round((System.nanoTime() - nanoTime) / 1e8) / 10.0;
    }

    // ---- audits ----

    Path blobFile(String sha256) {
        return dataDir().resolve("blobs").resolve("sha256").resolve(sha256.substring(0, 2)).resolve(sha256);
    }

    /** Every checkpoint the job produced has its bytes, they hash to the recorded sha256, and they parse. */
    void assertCheckpointsIntact(UUID job) throws Exception {
        List<String> shas = jdbc.queryForList("""
                select r.sha256 from checkpoint c join blob_ref r on r.owner_kind = 'checkpoint' and r.owner_id = c.id
                where c.producing_job_id = ?""", String.class, job);
        assertThat(shas).as("weights of every checkpoint of job " + job)
                .hasSize(jdbc.queryForObject("select count(*) from checkpoint where producing_job_id = ?", Integer.class, job));
        for (String sha : shas) {
            Path file = blobFile(sha);
            assertThat(file).as("checkpoint blob " + sha).isRegularFile();
            assertThat(sha256(file)).as("bytes of checkpoint blob " + sha).isEqualTo(sha);
            assertThat(SafetensorsHeader.read(file).tensors()).as("tensors of " + sha).isNotEmpty();
        }
    }

    /**
     * Nothing a killed or stopped process was writing is left: no file in any process's staging or
     * scratch directory, and no directory of a process other than {@code live}. Then, with every
     * process idle, one sweep (no grace period) collects what a crash between publishing a file and
     * committing its row could leave, and blob files, rows and references must agree exactly.
     *
     * @return how many leftovers the sweep collected
     */
    int assertNothingLeftBehind(Set<Long> live) throws IOException {
        Set<Long> pids = new HashSet<>(live);
        pids.add(ProcessHandle.current().pid());
        for (Path parent : List.of(dataDir().resolve("tmp"), dataDir().resolve("blobs").resolve("staging"))) {
            assertThat(regularFiles(parent)).as("files left in " + parent).isEmpty();
            try (Stream<Path> dirs = Files.list(parent)) {
                Set<Long> owners = dirs.filter(Files::isDirectory)
                        .map(dir -> dir.getFileName().toString().split("_"))
                        .map(parts -> Long.parseLong(parts[parts.length - 2]))
                        .collect(Collectors.toSet());
                assertThat(pids).as("processes owning a directory in " + parent).containsAll(owners);
            }
        }
        Set<String> referenced = new HashSet<>(jdbc.queryForList("select distinct sha256 from blob_ref", String.class));
        for (String sha : referenced) {
            assertThat(blobFile(sha)).as("referenced blob " + sha).isRegularFile();
        }
        int swept = sweeper.sweep(Duration.ZERO);
        Set<String> rows = new HashSet<>(jdbc.queryForList("select sha256 from blob", String.class));
        Set<String> files = regularFiles(dataDir().resolve("blobs").resolve("sha256")).stream()
                .map(p -> p.getFileName().toString()).collect(Collectors.toSet());
        assertThat(rows).as("blob rows").isEqualTo(referenced);
        assertThat(files).as("blob files").isEqualTo(referenced);
        return swept;
    }

    /**
     * Spins until the process {@code pid} has a file in its scratch or staging directory (a state or
     * checkpoint being written); false if none appeared in time (the kill then lands between writes).
     */
    boolean awaitFileBeingWritten(long pid, Duration timeout) throws IOException {
        List<Path> parents = List.of(dataDir().resolve("tmp"), dataDir().resolve("blobs").resolve("staging"));
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            for (Path parent : parents) {
                try (DirectoryStream<Path> dirs = Files.newDirectoryStream(parent, "*_" + pid + "_*")) {
                    for (Path dir : dirs) {
                        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir)) {
                            if (files.iterator().hasNext()) {
                                return true;
                            }
                        }
                    }
                }
            }
            Thread.onSpinWait();
        }
        return false;
    }

    static List<Path> regularFiles(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> walk = Files.walk(dir)) {
            return walk.filter(Files::isRegularFile).toList();
        }
    }

    static String sha256(Path file) throws Exception {
        MessageDigest digest = MessageDigest.getInstance("SHA-256");
        try (InputStream in = new DigestInputStream(Files.newInputStream(file), digest)) {
            in.transferTo(java.io.OutputStream.nullOutputStream());
        }
        return HexFormat.of().formatHex(digest.digest());
    }
}
