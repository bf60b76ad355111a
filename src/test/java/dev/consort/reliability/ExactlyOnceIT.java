package dev.consort.reliability;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.stream.LongStream;

import org.junit.jupiter.api.Test;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

import dev.consort.support.WorkerProcess;
import tools.jackson.databind.JsonNode;

/**
 * Two worker JVMs share one queue of 40 mixed jobs (evaluate, tiny finetune, merge): every job runs
 * once (one claim, one start, one success), and nothing it produces (checkpoints, result rows, loss
 * points, events) appears twice.
 */
class ExactlyOnceIT extends ReliabilitySupport {

    static final int JOBS = 40;
    static final int FINETUNE_STEPS = 12;

    @DynamicPropertySource
    static void ownDatabase(DynamicPropertyRegistry registry) {
        ownDatabaseAndDataDir(registry, "exactly-once");
    }

    private WorkerProcess.Builder worker(String name, Duration lease) {
        // A generous lease: a requeue here could only come from a double claim, not from a slow heartbeat.
        return worker(name).leases(lease, Duration.ofSeconds(2), Duration.ofMillis(100), Duration.ofSeconds(1));
    }

    @Test
    void fortyMixedJobsOnTwoWorkerProcessesEachSucceedExactlyOnce() throws Exception {
        String base = uploadTinyCheckpoint(31);
        String expertA = uploadTinyCheckpoint(32);
        String expertB = uploadTinyCheckpoint(33);
        String dataset = uploadTextDataset(40);

        CompletableFuture<WorkerProcess> first = CompletableFuture.supplyAsync(
                () -> started(worker("once-1", Duration.ofSeconds(60))));
        CompletableFuture<WorkerProcess> second = CompletableFuture.supplyAsync(
                () -> started(worker("once-2", Duration.ofSeconds(60))));
        WorkerProcess one = first.join();
        WorkerProcess two = second.join();

        long submitted = System.nanoTime();
        Map<UUID, String> jobs = new LinkedHashMap<>();
        for (int i = 0; i < JOBS; i++) {
            String type = switch (i % 3) {
                case 0 -> "evaluate";
                case 1 -> "finetune";
                default -> "merge";
            };
            String body = switch (type) {
                case "evaluate" -> """
                        {"type": "evaluate", "spec": {"checkpoint_ids": ["%s", "%s"], "dataset_ids": ["%s"],
                          "context": 8, "max_windows": 4, "batch_size": 2}}""".formatted(base, expertA, dataset);
                case "finetune" -> finetune(base, dataset, FINETUNE_STEPS, 6, 6, 4);
                default -> """
                        {"type": "merge", "spec": {"expert_ids": ["%s", "%s"], "eval_dataset_ids": ["%s"],
                          "evaluation": {"context": 8, "max_windows": 4, "batch_size": 2},
                          "method": "linear", "parameters": {"weight": 0.5}}}""".formatted(expertA, expertB, dataset);
            };
            jobs.put(submit(body), type);
        }
        await(Duration.ofMinutes(10), "all " + JOBS + " jobs finished", () -> jdbc.queryForObject(
                "select count(*) from job where id = any(?) and status in ('succeeded', 'failed', 'cancelled')",
                Integer.class, (Object) jobs.keySet().toArray(new UUID[0])) == JOBS);
        double allDoneAfter = secondsSince(submitted);

        Set<String> workers = new HashSet<>();
        for (Map.Entry<UUID, String> entry : jobs.entrySet()) {
            UUID job = entry.getKey();
            String what = entry.getValue() + " job " + job;
            assertThat(status(job)).as(what).isEqualTo("succeeded");
            assertThat(attempts(job)).as(what + " claims").isEqualTo(1);
            assertThat(events(job, "started")).as(what + " starts").isEqualTo(1);
            assertThat(events(job, "succeeded")).as(what + " successes").isEqualTo(1);
            assertThat(eventKinds(job)).as(what).doesNotContain("requeued", "released", "failed");
            workers.add(jdbc.queryForObject("select data ->> 'worker' from job_event where job_id = ? and kind = 'started'",
                    String.class, job));
            switch (entry.getValue()) {
                case "evaluate" -> assertThat(resultRows(job)).as(what).hasSize(2)
                        .containsExactlyInAnyOrder(base + "/" + dataset, expertA + "/" + dataset);
                case "finetune" -> {
                    assertThat(steps(job, "train")).as(what)
                            .containsExactlyElementsOf(LongStream.rangeClosed(1, FINETUNE_STEPS).boxed().toList());
                    assertThat(steps(job, "validation")).as(what).containsExactly(6L, 12L);
                    assertThat(checkpointSteps(job)).as(what).containsExactly(6L, 12L);
                    assertThat(events(job, "checkpoint")).as(what).isEqualTo(2);
                    assertThat(events(job, "resumed")).as(what).isZero();
                    assertCheckpointsIntact(job);
                }
                default -> {
                    assertThat(jdbc.queryForObject("select count(*) from checkpoint where producing_job_id = ?",
                            Integer.class, job)).as(what + " merged checkpoints").isEqualTo(1);
                    assertThat(events(job, "merged")).as(what).isEqualTo(1);
                    assertThat(resultRows(job)).as(what + ": two experts and the merge").hasSize(3).doesNotHaveDuplicates();
                    assertCheckpointsIntact(job);
                }
            }
        }
        assertThat(workers).as("both worker processes took jobs").hasSize(2);
        assertThat(jdbc.queryForObject("select count(*) from blob_ref where owner_kind = 'job'", Integer.class))
                .as("saved states of finished jobs").isZero();
        int swept = assertNothingLeftBehind(Set.of(one.pid(), two.pid()));

        Map<String, Long> perWorker = new LinkedHashMap<>();
        for (String worker : workers) {
            perWorker.put(worker, jdbc.queryForObject("""
                    select count(*) from job_event where kind = 'started' and data ->> 'worker' = ?""", Long.class, worker));
        }
        log.info("RELIABILITY exactly-once: {} jobs ({} evaluate, {} finetune, {} merge) done {} s after submission; "
                        + "jobs per worker {}; {} blob leftover(s) swept", JOBS,
                jobs.values().stream().filter("evaluate"::equals).count(),
                jobs.values().stream().filter("finetune"::equals).count(),
                jobs.values().stream().filter("merge"::equals).count(), allDoneAfter, perWorker.values(), swept);
    }

    /** The results table as {@code checkpoint/dataset} (merge rows: label/dataset), one entry per row. */
    private List<String> resultRows(UUID job) {
        JsonNode rows = json(get("/jobs/" + job + "/results")).path("rows");
        List<String> keys = new ArrayList<>();
        for (JsonNode row : rows) {
            String model = row.hasNonNull("checkpoint_id") ? row.path("checkpoint_id").asText() : row.path("label").asText();
            keys.add(model + "/" + row.path("dataset_id").asText());
        }
        return keys;
    }
}
