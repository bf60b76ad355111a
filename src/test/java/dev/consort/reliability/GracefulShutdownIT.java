package dev.consort.reliability;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.Set;
import java.util.UUID;
import java.util.stream.LongStream;

import org.junit.jupiter.api.Test;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

import dev.consort.support.WorkerProcess;

/**
 * SIGTERM to a worker JVM running a finetune job: the job saves its training state at the step it
 * reached and is released to the queue at once (not after its lease expires); the next worker
 * resumes it from exactly that step. The job saves no state on its own (state_every beyond its
 * steps), so any resume is from the shutdown save.
 */
class GracefulShutdownIT extends ReliabilitySupport {

    static final int STEPS = 400;
    static final int CHECKPOINT_EVERY = 100;

    @DynamicPropertySource
    static void ownDatabase(DynamicPropertyRegistry registry) {
        ownDatabaseAndDataDir(registry, "graceful-shutdown");
    }

    private WorkerProcess.Builder longLease(String name) {
        // A lease far longer than the test waits for the release: only an explicit release requeues the job.
        return worker(name).leases(Duration.ofMinutes(10), Duration.ofSeconds(1), Duration.ofMillis(200),
                Duration.ofSeconds(1));
    }

    @Test
    void sigtermSavesTheStateAndReleasesTheJobForTheNextWorker() throws Exception {
        String base = uploadTinyCheckpoint(21);
        String dataset = uploadTextDataset(40);
        UUID job = submit(finetune(base, dataset, STEPS, CHECKPOINT_EVERY, CHECKPOINT_EVERY, 100_000));

        WorkerProcess stopping = started(longLease("shutdown-stopping"));
        await(Duration.ofMinutes(4), "the job well under way", () -> lastStep(job) >= 30);
        long signalled = System.nanoTime();
        int exitCode = stopping.terminate(Duration.ofMinutes(2));
        double exitedAfter = secondsSince(signalled);

        // Released before the JVM exited: queued now, with the lease cleared and nothing for the reaper to do.
        assertThat(status(job)).isEqualTo("queued");
        assertThat(jdbc.queryForObject("select lease_owner is null and lease_expires_at is null from job where id = ?",
                Boolean.class, job)).isTrue();
        assertThat(eventKinds(job)).containsSubsequence("started", "state_saved", "released").doesNotContain("requeued");
        long stoppedAtStep = lastStep(job);
        assertThat(stoppedAtStep).as("stopped mid-job").isLessThan(STEPS);
        assertThat(savedStateStep(job)).as("state saved at the last completed step").isEqualTo(stoppedAtStep);
        assertThat(eventStep(job, "state_saved")).isEqualTo(stoppedAtStep);
        assertThat(attempts(job)).as("a release does not use up an attempt").isZero();

        long restarted = System.nanoTime();
        WorkerProcess next = started(longLease("shutdown-next"));
        await(Duration.ofMinutes(6), "the job succeeded", () -> "succeeded".equals(status(job)));
        double succeededAfter = secondsSince(restarted);

        assertThat(eventStep(job, "resumed")).as("resumed from the shutdown save").isEqualTo(stoppedAtStep);
        assertThat(steps(job, "train")).as("every training step exactly once")
                .containsExactlyElementsOf(LongStream.rangeClosed(1, STEPS).boxed().toList());
        assertThat(steps(job, "validation")).containsExactly(100L, 200L, 300L, 400L);
        assertThat(eventKinds(job)).containsSubsequence("started", "state_saved", "released", "started", "resumed",
                "succeeded");
        assertThat(events(job, "succeeded")).isEqualTo(1);
        assertThat(checkpointSteps(job)).containsExactly(100L, 200L, 300L, 400L);
        assertCheckpointsIntact(job);
        assertThat(hasSavedState(job)).isFalse();
        assertThat(stopping.log()).contains("Released job " + job);
        int swept = assertNothingLeftBehind(Set.of(next.pid()));

        log.info("RELIABILITY graceful-shutdown: SIGTERM at step {}, state saved at step {}, worker exited with {} "
                        + "{} s after the signal, job queued before exit, resumed at step {}, next worker took {} s "
                        + "(start included) to finish, 0 steps redone, {} blob leftover(s) swept",
                stoppedAtStep, stoppedAtStep, exitCode, exitedAfter, eventStep(job, "resumed"), succeededAfter, swept);
    }
}
