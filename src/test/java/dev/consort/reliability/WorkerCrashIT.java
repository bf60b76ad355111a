package dev.consort.reliability;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.stream.LongStream;

import org.junit.jupiter.api.Test;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

import dev.consort.support.WorkerProcess;

/**
 * A worker JVM killed with SIGKILL in the middle of a finetune job, after a state save: a worker
 * started afterwards resumes the job from that state and finishes it, with every step once in its
 * loss curve, each checkpoint once and whole, and nothing the dead process was writing left behind.
 */
class WorkerCrashIT extends ReliabilitySupport {

    static final int STEPS = 400;
    static final int STATE_EVERY = 25;
    static final int CHECKPOINT_EVERY = 100;

    @DynamicPropertySource
    static void ownDatabase(DynamicPropertyRegistry registry) {
        ownDatabaseAndDataDir(registry, "worker-crash");
    }

    @Test
    void aKilledWorkersFinetuneResumesFromItsSavedStateInAnotherProcess() throws Exception {
        String base = uploadTinyCheckpoint(11);
        String dataset = uploadTextDataset(40);
        UUID job = submit(finetune(base, dataset, STEPS, CHECKPOINT_EVERY, CHECKPOINT_EVERY, STATE_EVERY));

        WorkerProcess doomed = started(shortLeases("crash-doomed"));
        await(Duration.ofMinutes(4), "a state save and a few steps beyond it",
                () -> hasSavedState(job) && lastStep(job) >= STATE_EVERY + 5);
        // Kill it while it writes the next state (its scratch or staging file exists), so that the kill
        // leaves half-written files behind, as a real crash would.
        boolean midWrite = awaitFileBeingWritten(doomed.pid(), Duration.ofMinutes(2));
        doomed.kill();
        long killedAt = System.nanoTime();
        long killedAfterStep = lastStep(job);
        long stateStep = savedStateStep(job);
        int leftByKill = regularFiles(dataDir().resolve("tmp")).size()
                + regularFiles(dataDir().resolve("blobs").resolve("staging")).size();
        assertThat(status(job)).as("the dead worker still holds the lease").isEqualTo("running");
        assertThat(killedAfterStep).as("killed mid-job").isLessThan(STEPS);

        WorkerProcess rescuer = started(shortLeases("crash-rescuer"));
        double rescuerReadyAfter = secondsSince(killedAt);
        await(Duration.ofMinutes(4), "the job resumed", () -> events(job, "resumed") == 1);
        double resumedAfter = secondsSince(killedAt);
        await(Duration.ofMinutes(6), "the job succeeded", () -> "succeeded".equals(status(job)));
        double succeededAfter = secondsSince(killedAt);

        assertThat(steps(job, "train")).as("every training step exactly once")
                .containsExactlyElementsOf(LongStream.rangeClosed(1, STEPS).boxed().toList());
        assertThat(steps(job, "validation")).containsExactly(100L, 200L, 300L, 400L);
        assertThat(eventStep(job, "resumed")).as("resumed from the state saved before the kill").isEqualTo(stateStep);
        assertThat(eventKinds(job)).containsSubsequence("started", "requeued", "started", "resumed", "succeeded");
        assertThat(events(job, "succeeded")).isEqualTo(1);
        assertThat(events(job, "started")).isEqualTo(2);
        assertThat(attempts(job)).isEqualTo(2);
        assertThat(checkpointSteps(job)).as("each checkpoint once").containsExactly(100L, 200L, 300L, 400L);
        assertCheckpointsIntact(job);
        assertThat(hasSavedState(job)).as("the finished job's state is dropped").isFalse();
        String lastWorker = jdbc.queryForObject(
                "select data ->> 'worker' from job_event where job_id = ? and kind = 'started' order by id desc limit 1",
                String.class, job);
        assertThat(lastWorker).endsWith(":" + rescuer.pid());
        int swept = assertNothingLeftBehind(Set.of(rescuer.pid()));

        log.info("RELIABILITY worker-crash: killed {}after step {} (state at step {}), {} partial file(s) left by the kill, "
                        + "rescuer ready {} s after the kill, resumed at {} s, succeeded at {} s, {} step(s) redone, "
                        + "{} blob leftover(s) swept", midWrite ? "mid-write " : "", killedAfterStep, stateStep, leftByKill, rescuerReadyAfter,
                resumedAfter, succeededAfter, killedAfterStep - stateStep, swept);
        List.of(doomed, rescuer).forEach(WorkerProcess::close);
    }
}
