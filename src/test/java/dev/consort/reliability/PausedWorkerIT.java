package dev.consort.reliability;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.LongStream;

import org.junit.jupiter.api.Test;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

import dev.consort.support.WorkerProcess;

/**
 * A worker JVM paused with SIGSTOP in the middle of a finetune, past its lease (issue 16, item 5): the job is
 * requeued and finished by another worker; then the paused one is woken with SIGCONT, still believing it runs the
 * job. Every write it then tries (loss points, events, checkpoints, state, its final status) is fenced by the
 * lease: nothing is added, and nothing the winner wrote is replaced or removed. The woken worker carries on.
 */
class PausedWorkerIT extends ReliabilitySupport {

    static final int STEPS = 400;

    @DynamicPropertySource
    static void ownDatabase(DynamicPropertyRegistry registry) {
        ownDatabaseAndDataDir(registry, "paused-worker");
    }

    /** What the job's outputs are: compared before and after the paused worker wakes. */
    private Map<String, Object> outputs(UUID job) {
        return Map.of(
                "checkpoints", jdbc.queryForList("""
                        select c.id, c.name, c.step, c.best, c.weights_sha256, r.sha256 as blob from checkpoint c
                        left join blob_ref r on r.owner_kind = 'checkpoint' and r.owner_id = c.id
                        where c.producing_job_id = ? order by c.id""", job),
                "losses", jdbc.queryForList(
                        "select series, step, value from loss_point where job_id = ? order by series, step", job),
                "events", jdbc.queryForList("select id, kind from job_event where job_id = ? order by id", job),
                "job", jdbc.queryForList("""
                        select status, attempts, result::text, error_code, lease_owner, finished_at from job
                        where id = ?""", job),
                "state", jdbc.queryForList("select sha256 from blob_ref where owner_kind = 'job' and owner_id = ?", job));
    }

    private static void signal(WorkerProcess worker, String signal) throws IOException, InterruptedException {
        Process kill = new ProcessBuilder("kill", "-" + signal, Long.toString(worker.pid())).inheritIO().start();
        assertThat(kill.waitFor()).as("kill -%s %d", signal, worker.pid()).isZero();
    }

    @Test
    void aWorkerWokenAfterItsJobWasFinishedElsewhereAddsAndRemovesNothing() throws Exception {
        String base = uploadTinyCheckpoint(12);
        String dataset = uploadTextDataset(40);
        // States at 30, 60, 90, ...: the first file the worker writes after step 91 is the checkpoint of step 100.
        UUID job = submit(finetune(base, dataset, STEPS, 100, 100, 30));

        WorkerProcess sleeper = started(shortLeases("paused-sleeper"));
        await(Duration.ofMinutes(4), "a state save and the approach of the first checkpoint",
                () -> hasSavedState(job) && lastStep(job) >= 92);
        // Paused while it writes the checkpoint, it wakes up to register it: the write the fence must refuse.
        boolean midWrite = awaitFileBeingWritten(sleeper.pid(), Duration.ofMinutes(2));
        signal(sleeper, "STOP");
        long pausedAfterStep = lastStep(job);
        long pausedAt = System.nanoTime();
        await(Duration.ofSeconds(30), "the paused worker's job requeued", () -> events(job, "requeued") == 1);

        WorkerProcess winner = started(shortLeases("paused-winner"));
        await(Duration.ofMinutes(6), "the job succeeded on the other worker", () -> "succeeded".equals(status(job)));
        double finishedAfter = secondsSince(pausedAt);
        Map<String, Object> before = outputs(job);

        signal(sleeper, "CONT");
        await(Duration.ofMinutes(1), "the woken worker noticed that it lost the job",
                () -> sleeper.log().contains("Lost the lease on job " + job)
                        || sleeper.log().contains("Could not record succeeded for job " + job));
        // Time for any write still in flight to land, if it could.
        pause(Duration.ofSeconds(3));
        assertThat(outputs(job)).as("the winner's outputs, after the paused worker woke").isEqualTo(before);
        assertThat(sleeper.isAlive()).as("the woken worker carries on").isTrue();

        assertThat(steps(job, "train")).containsExactlyElementsOf(LongStream.rangeClosed(1, STEPS).boxed().toList());
        assertThat(checkpointSteps(job)).as("each checkpoint once").containsExactly(100L, 200L, 300L, 400L);
        assertCheckpointsIntact(job);
        assertThat(events(job, "succeeded")).isEqualTo(1);
        assertThat(attempts(job)).isEqualTo(2);
        int swept = assertNothingLeftBehind(java.util.Set.of(sleeper.pid(), winner.pid()));

        log.info("RELIABILITY paused-worker: SIGSTOP {}after step {}, requeued and finished elsewhere {} s later; "
                        + "after SIGCONT: 0 rows added or changed, the woken worker alive; {} blob leftover(s) swept",
                midWrite ? "while writing the step-100 checkpoint, " : "", pausedAfterStep, finishedAfter, swept);
        List.of(sleeper, winner).forEach(WorkerProcess::close);
    }
}
