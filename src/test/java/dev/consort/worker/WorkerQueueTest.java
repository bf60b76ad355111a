package dev.consort.worker;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.function.BooleanSupplier;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.springframework.beans.factory.annotation.Autowired;

import dev.consort.job.JobTypes;
import dev.consort.support.ApiTest;
import tools.jackson.databind.json.JsonMapper;

/**
 * The queue under two independent worker pools, as two processes would run them. The jobs use a device
 * class of their own ({@code lab}) so the application's own pool never takes them.
 */
class WorkerQueueTest extends ApiTest {

    @Autowired
    JobQueue queue;
    @Autowired
    JobTypes handlers;
    @Autowired
    JsonMapper json;
    @Autowired
    JobStateStore states;
    @Autowired
    WorkerPoolLifecycle lifecycle;

    private final List<WorkerPool> pools = new ArrayList<>();

    @AfterEach
    void stopPools() {
        pools.forEach(p -> p.stop(Duration.ofSeconds(5)));
    }

    private WorkerPool pool(String name, Duration lease, String... devices) {
        WorkerPool pool = new WorkerPool(name, new WorkerSettings(List.of(devices), lease,
                lease.dividedBy(4), Duration.ofMillis(50)), queue, handlers, json, states);
        pools.add(pool);
        pool.start();
        return pool;
    }

    private UUID enqueue(String specJson) {
        UUID id = dev.consort.database.TimeOrderedIds.next();
        jdbc.update("""
                insert into job (id, type, status, spec, device_class, max_attempts)
                values (?, ?, 'queued', ?::jsonb, 'lab', 3)""", id, CountingTestHandler.TYPE, specJson);
        return id;
    }

    private String status(UUID id) {
        return jdbc.queryForObject("select status from job where id = ?", String.class, id);
    }

    @Test
    void thirtyJobsOnTwoPoolsRunExactlyOnce() {
        List<UUID> ids = new ArrayList<>();
        for (int i = 0; i < 30; i++) {
            ids.add(enqueue("{\"steps\": 3, \"step_millis\": 5}"));
        }
        pool("pool-a", Duration.ofSeconds(30), "lab:0", "lab:1");
        pool("pool-b", Duration.ofSeconds(30), "lab:0", "lab:1");

        await(Duration.ofSeconds(60), () -> ids.stream().allMatch(id -> "succeeded".equals(status(id))));

        for (UUID id : ids) {
            assertThat(CountingTestHandler.STARTS.get(id)).as("starts of %s", id).hasValue(1);
            assertThat(CountingTestHandler.COMPLETIONS.get(id)).as("completions of %s", id).hasValue(1);
            assertThat(jdbc.queryForObject("select attempts from job where id = ?", Integer.class, id)).isEqualTo(1);
            assertThat(jdbc.queryForObject("select count(*) from job_event where job_id = ? and kind = 'started'",
                    Integer.class, id)).isEqualTo(1);
            assertThat(jdbc.queryForObject("select count(*) from loss_point where job_id = ?", Integer.class, id))
                    .isEqualTo(3);
        }
        // Both pools did work: the queue spread it.
        assertThat(jdbc.queryForList("""
                select distinct split_part(message, '/', 1) from job_event
                where kind = 'started' and job_id in (select id from job where device_class = 'lab')""",
                String.class)).anySatisfy(m -> assertThat(m).contains("pool-a"))
                .anySatisfy(m -> assertThat(m).contains("pool-b"));
    }

    @Test
    void aWorkerThatStopsHeartbeatingLosesItsJobToAnother() {
        UUID id = enqueue("{\"steps\": 40, \"step_millis\": 50}");
        WorkerPool crashing = pool("pool-crash", Duration.ofSeconds(2), "lab:0");
        // Running in the table is not yet running in the handler: wait for the handler to start.
        await(Duration.ofSeconds(20), () -> "running".equals(status(id)) && CountingTestHandler.STARTS.containsKey(id));
        crashing.halt();
        assertThat(status(id)).isEqualTo("running");

        pool("pool-rescue", Duration.ofSeconds(2), "lab:0");
        await(Duration.ofSeconds(30), () -> {
            queue.reapExpiredLeases();
            return "succeeded".equals(status(id));
        });
        assertThat(CountingTestHandler.STARTS.get(id)).hasValue(2);
        assertThat(CountingTestHandler.COMPLETIONS.get(id)).hasValue(1);
        assertThat(jdbc.queryForObject("select attempts from job where id = ?", Integer.class, id)).isEqualTo(2);
        assertThat(jdbc.queryForList("select kind from job_event where job_id = ? order by id", String.class, id))
                .containsSubsequence("started", "requeued", "started", "succeeded");
        // Each step once, even though the first worker recorded some before it died.
        assertThat(jdbc.queryForObject("select count(*) from loss_point where job_id = ?", Integer.class, id))
                .isEqualTo(40);
    }

    @Test
    void aRequeuedJobResumesFromItsSavedStateAndTheStateIsDroppedAtTheEnd() {
        UUID id = enqueue("{\"steps\": 60, \"step_millis\": 40, \"state_every\": 10}");
        WorkerPool crashing = pool("pool-resume-crash", Duration.ofSeconds(2), "lab:0");
        await(Duration.ofSeconds(30), () -> jdbc.queryForObject(
                "select count(*) from blob_ref where owner_kind = 'job' and owner_id = ?", Integer.class, id) == 1
                && jdbc.queryForObject("select count(*) from loss_point where job_id = ?", Integer.class, id) >= 25);
        crashing.halt();
        String savedSha = jdbc.queryForObject("select sha256 from blob_ref where owner_kind = 'job' and owner_id = ?",
                String.class, id);

        pool("pool-resume-rescue", Duration.ofSeconds(2), "lab:0");
        await(Duration.ofSeconds(60), () -> {
            queue.reapExpiredLeases();
            return "succeeded".equals(status(id));
        });
        List<Integer> resumedAfter = CountingTestHandler.RESUMED_AFTER.get(id);
        assertThat(resumedAfter).hasSize(2);
        assertThat(resumedAfter.get(0)).isZero();
        assertThat(resumedAfter.get(1)).isGreaterThanOrEqualTo(20).isEqualTo(resumedAfter.get(1) / 10 * 10);
        // Every step's loss point exactly once, and the finished job's state is gone with its blob.
        assertThat(jdbc.queryForList("select step from loss_point where job_id = ? order by step", Long.class, id))
                .containsExactlyElementsOf(java.util.stream.LongStream.rangeClosed(1, 60).boxed().toList());
        // The worker drops the state, and the blob is collected, just after the transaction that ended the job.
        await(Duration.ofSeconds(10), () -> jdbc.queryForObject(
                "select count(*) from blob_ref where owner_kind = 'job' and owner_id = ?", Integer.class, id) == 0);
        await(Duration.ofSeconds(10), () -> jdbc.queryForObject("select count(*) from blob where sha256 = ?",
                Integer.class, savedSha) == 0);
    }

    @Test
    void aJobWhoseWorkersKeepDyingFailsAfterMaxAttemptsAndItsStateIsDropped() {
        UUID id = enqueue("{\"steps\": 1000, \"step_millis\": 50, \"state_every\": 5}");
        jdbc.update("update job set max_attempts = 1 where id = ?", id);
        WorkerPool crashing = pool("pool-doomed", Duration.ofSeconds(1), "lab:0");
        await(Duration.ofSeconds(20), () -> jdbc.queryForObject(
                "select count(*) from blob_ref where owner_kind = 'job' and owner_id = ?", Integer.class, id) == 1);
        crashing.halt();
        await(Duration.ofSeconds(20), () -> {
            queue.reapExpiredLeases();
            return "failed".equals(status(id));
        });
        assertThat(jdbc.queryForObject("select error_code from job where id = ?", String.class, id))
                .isEqualTo("lease_expired");
        // No worker finished it, so the reaper's next round drops the state that can never be resumed.
        String savedSha = jdbc.queryForObject("select sha256 from blob_ref where owner_kind = 'job' and owner_id = ?",
                String.class, id);
        assertThat(states.dropEnded()).isPositive();
        // The worker drops the state, and the blob is collected, just after the transaction that ended the job.
        await(Duration.ofSeconds(10), () -> jdbc.queryForObject(
                "select count(*) from blob_ref where owner_kind = 'job' and owner_id = ?", Integer.class, id) == 0);
        await(Duration.ofSeconds(10), () -> jdbc.queryForObject("select count(*) from blob where sha256 = ?",
                Integer.class, savedSha) == 0);
    }

    @Test
    void gracefulStopReleasesTheJobWithoutCountingTheAttempt() {
        UUID id = enqueue("{\"steps\": 1000, \"step_millis\": 20}");
        WorkerPool stopping = pool("pool-stop", Duration.ofSeconds(30), "lab:0");
        await(Duration.ofSeconds(20), () -> "running".equals(status(id)));
        stopping.stop(Duration.ofSeconds(10));
        assertThat(status(id)).isEqualTo("queued");
        assertThat(jdbc.queryForObject("select attempts from job where id = ?", Integer.class, id)).isZero();
        jdbc.update("update job set status = 'cancelled' where id = ?", id);
    }

    /**
     * An Error inside a job (the Java heap or stack exhausted, libtorch failing an allocation, an assertion) fails
     * that job once, with a code that says why, and the worker thread goes on to the next job.
     */
    @ParameterizedTest
    @CsvSource({"out_of_memory, resource_exhausted", "stack_overflow, resource_exhausted",
        "native_out_of_memory, resource_exhausted", "assertion, internal_error"})
    void aJobThatThrowsAnErrorFailsOnceAndItsWorkerRunsTheNextJob(String failWith, String code) {
        UUID failing = enqueue("{\"steps\": 3, \"fail_at\": 2, \"fail_with\": \"" + failWith + "\"}");
        UUID next = enqueue("{\"steps\": 2}");
        WorkerPool pool = pool("pool-survivor", Duration.ofSeconds(30), "lab:0");

        await(Duration.ofSeconds(30), () -> "failed".equals(status(failing)) && "succeeded".equals(status(next)));
        assertThat(jdbc.queryForObject("select error_code from job where id = ?", String.class, failing)).isEqualTo(code);
        assertThat(jdbc.queryForObject("select attempts from job where id = ?", Integer.class, failing)).isEqualTo(1);
        assertThat(CountingTestHandler.STARTS.get(failing)).hasValue(1);
        if (code.equals("resource_exhausted")) {
            assertThat(jdbc.queryForObject("select error_message from job where id = ?", String.class, failing))
                    .contains("ran out of memory").contains("not retried");
        }
        assertThat(pool.deadThreads()).isEmpty();
    }

    /** Readiness goes down when a worker thread has died, and comes back when the pool is restarted. */
    @Test
    @SuppressWarnings("removal")
    void readinessReportsAWorkerThreadThatDied() throws InterruptedException {
        assertThat(get("/actuator/health/readiness").statusCode()).isEqualTo(200);
        WorkerPool app = lifecycle.pool();
        assertThat(app.deadThreads()).isEmpty();
        String prefix = dev.consort.storage.ProcessDirectory.hostName() + ":" + ProcessHandle.current().pid() + "-";
        Thread worker = Thread.getAllStackTraces().keySet().stream()
                .filter(thread -> thread.getName().startsWith(prefix) && !thread.getName().endsWith("-heartbeat"))
                .findFirst().orElseThrow();
        try {
            // What no catch in the work loop survives: the thread is killed from outside (possible up to Java 19).
            worker.stop();
            worker.join(10_000);
            assertThat(app.deadThreads()).containsExactly(worker.getName());
            HttpResponse<String> down = get("/actuator/health/readiness");
            assertThat(down.statusCode()).isEqualTo(503);
            assertThat(down.body()).contains("DOWN");
        } finally {
            lifecycle.stop();
            lifecycle.start();
        }
        assertThat(get("/actuator/health/readiness").statusCode()).isEqualTo(200);
    }

    static void await(Duration timeout, BooleanSupplier condition) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("condition not met within " + timeout);
            }
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError(e);
            }
        }
    }
}
