package dev.consort.reliability;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;
import java.util.UUID;
import java.util.stream.LongStream;

import org.junit.jupiter.api.Test;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

import dev.consort.support.TestDatabase;
import dev.consort.support.WorkerProcess;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import tools.jackson.databind.JsonNode;

/**
 * PostgreSQL stopped in the middle of a finetune job and started again (same port, same data
 * directory), down for longer than the job's lease: the API answers 503 {@code database-unavailable}
 * problems while it is down instead of hanging, and the worker process, which stays up, gets the job
 * back (released or requeued after its lease expired) and finishes it from its saved state.
 */
class DatabaseRestartIT extends ReliabilitySupport {

    static final int STEPS = 400;
    static final int STATE_EVERY = 20;
    static final Duration LEASE = Duration.ofSeconds(3);
    /** Down for well over a lease, so the job's lease has expired by the time PostgreSQL is back. */
    static final Duration OUTAGE = Duration.ofSeconds(12);

    private static final Path PG_DATA = TestDatabase.dataDir().resolve("restart-postgres");
    private static final int PG_PORT = freePort();
    private static EmbeddedPostgres postgres;

    @DynamicPropertySource
    static void restartableDatabase(DynamicPropertyRegistry registry) {
        registry.add("consort.data-dir", () -> TestDatabase.dataDir().resolve("reliability-database-restart").toString());
        registry.add("spring.datasource.url", () -> {
            startPostgres();
            return "jdbc:postgresql://localhost:" + PG_PORT + "/postgres";
        });
        registry.add("spring.datasource.username", () -> "postgres");
    }

    private static synchronized void startPostgres() {
        if (postgres != null) {
            return;
        }
        try {
            Files.createDirectories(PG_DATA);
            postgres = EmbeddedPostgres.builder().setPort(PG_PORT).setDataDirectory(PG_DATA)
                    .setCleanDataDirectory(false).setPGStartupWait(Duration.ofMinutes(1)).start();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static synchronized void stopPostgres() throws IOException {
        postgres.close(); // pg_ctl stop -m fast: open connections are cut, as in a crash or a failover
        postgres = null;
    }

    @Test
    void theApiAnswers503WhileTheDatabaseIsDownAndTheWorkerFinishesItsJobsAfterwards() throws Exception {
        String base = uploadTinyCheckpoint(41);
        String dataset = uploadTextDataset(40);
        UUID job = submit(finetune(base, dataset, STEPS, 100, 100, STATE_EVERY));
        WorkerProcess worker = started(worker("restart-worker").leases(LEASE, Duration.ofMillis(500),
                Duration.ofMillis(200), Duration.ofSeconds(1)));
        await(Duration.ofMinutes(4), "the job past two state saves", () -> lastStep(job) >= 2 * STATE_EVERY + 5);

        long stopped = System.nanoTime();
        stopPostgres();

        long asked = System.nanoTime();
        HttpResponse<String> read = get("/jobs/" + job);
        double readAnsweredIn = secondsSince(asked);
        assertDatabaseUnavailable(read);
        asked = System.nanoTime();
        HttpResponse<String> write = postJson("/jobs", finetune(base, dataset, 10, 5, 5, 5));
        double writeAnsweredIn = secondsSince(asked);
        assertDatabaseUnavailable(write);
        assertThat(get("/actuator/health/readiness").statusCode()).as("readiness while the database is down")
                .isEqualTo(503);
        // Hold the outage past the lease, then check the worker process rode it out.
        Duration rest = OUTAGE.minusNanos(System.nanoTime() - stopped);
        if (!rest.isNegative()) {
            pause(rest);
        }
        assertThat(worker.isAlive()).isTrue();

        long restarted = System.nanoTime();
        startPostgres();
        double outage = secondsSince(stopped);
        await(Duration.ofMinutes(2), "the API answering again", () -> get("/jobs/" + job).statusCode() == 200);
        double apiBackAfter = secondsSince(restarted);
        await(Duration.ofMinutes(2), "the job running again", () -> events(job, "resumed") == 1);
        double resumedAfter = secondsSince(restarted);
        await(Duration.ofMinutes(6), "the job succeeded", () -> "succeeded".equals(status(job)));
        double succeededAfter = secondsSince(restarted);

        assertThat(worker.isAlive()).as("the same worker process").isTrue();
        assertThat(steps(job, "train")).as("every training step exactly once")
                .containsExactlyElementsOf(LongStream.rangeClosed(1, STEPS).boxed().toList());
        assertThat(steps(job, "validation")).containsExactly(100L, 200L, 300L, 400L);
        assertThat(checkpointSteps(job)).containsExactly(100L, 200L, 300L, 400L);
        assertCheckpointsIntact(job);
        long resumedFrom = eventStep(job, "resumed");
        assertThat(resumedFrom % STATE_EVERY).as("resumed from a saved state").isZero();
        assertThat(resumedFrom).isGreaterThanOrEqualTo(2 * STATE_EVERY);
        boolean released = events(job, "released") == 1;
        boolean requeued = events(job, "requeued") == 1;
        assertThat(released ^ requeued).as("put back in the queue once, by the worker or by the reaper").isTrue();
        assertThat(eventKinds(job)).containsSubsequence("started", released ? "released" : "requeued", "started",
                "resumed", "succeeded");
        assertThat(events(job, "succeeded")).isEqualTo(1);
        assertThat(events(job, "failed")).isZero();
        assertThat(worker.log()).contains("Database unavailable while running job " + job);

        // A quick restart (well within a lease): absorbed by the pool's connection wait, or the job is
        // released and taken up again; either way it completes with each step once.
        UUID quick = submit(finetune(base, dataset, STEPS, 100, 100, STATE_EVERY));
        await(Duration.ofMinutes(4), "the second job past two state saves", () -> lastStep(quick) >= 2 * STATE_EVERY + 5);
        long bounced = System.nanoTime();
        stopPostgres();
        startPostgres();
        double bounce = secondsSince(bounced);
        await(Duration.ofMinutes(6), "the second job succeeded", () -> "succeeded".equals(status(quick)));
        assertThat(steps(quick, "train")).containsExactlyElementsOf(LongStream.rangeClosed(1, STEPS).boxed().toList());
        assertThat(checkpointSteps(quick)).containsExactly(100L, 200L, 300L, 400L);
        assertCheckpointsIntact(quick);
        assertThat(events(quick, "succeeded")).isEqualTo(1);
        assertThat(events(quick, "failed")).isZero();
        String quickPath = events(quick, "released") + " release(s), " + events(quick, "requeued") + " requeue(s), "
                + events(quick, "started") + " start(s)";

        int swept = assertNothingLeftBehind(Set.of(worker.pid()));

        log.info("RELIABILITY database-restart: PostgreSQL down {} s (lease {} s); GET answered 503 in {} s, POST in "
                        + "{} s; API back {} s after the restart, job {} and resumed from step {} {} s after it, "
                        + "succeeded {} s after it, attempts {}; quick restart ({} s): {}; {} blob leftover(s) swept",
                outage, LEASE.toSeconds(), readAnsweredIn, writeAnsweredIn, apiBackAfter,
                released ? "released by the worker" : "requeued by the reaper", resumedFrom, resumedAfter, succeededAfter,
                attempts(job), bounce, quickPath, swept);
    }

    private static void assertDatabaseUnavailable(HttpResponse<String> response) {
        assertThat(response.statusCode()).as(response.body()).isEqualTo(503);
        assertThat(response.headers().firstValue("Content-Type")).hasValueSatisfying(
                type -> assertThat(type).startsWith("application/problem+json"));
        assertThat(response.headers().firstValue("Retry-After")).isPresent();
        JsonNode problem = json(response);
        assertThat(problem.path("type").asText()).isEqualTo("https://consort.dev/problems/database-unavailable");
        assertThat(problem.path("status").asInt()).isEqualTo(503);
    }

    private static int freePort() {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
