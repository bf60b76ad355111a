package dev.consort.training;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.stream.LongStream;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

import dev.consort.job.JobTypes;
import dev.consort.support.Multipart;
import dev.consort.support.TestDatabase;
import dev.consort.support.TinyGpt2;
import dev.consort.worker.JobQueue;
import dev.consort.worker.JobStateStore;
import dev.consort.worker.WorkerPool;
import dev.consort.worker.WorkerSettings;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * A finetune job whose worker dies after a state save is finished by another worker from that state:
 * its loss curve has each step once and each checkpoint is registered once. The application runs as
 * api only here; the test drives two worker pools as two processes would.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = "consort.role=api")
class TrainingResumeTest extends TrainingJobsSupport {

    @DynamicPropertySource
    static void ownDatabase(DynamicPropertyRegistry registry) {
        TestDatabase.useOwnDatabase(registry, "training-resume");
    }

    @Autowired
    JobQueue queue;
    @Autowired
    JobTypes handlers;
    @Autowired
    JsonMapper mapper;
    @Autowired
    JobStateStore states;

    private final List<WorkerPool> pools = new ArrayList<>();

    @AfterEach
    void stopPools() {
        pools.forEach(p -> p.stop(Duration.ofSeconds(10)));
    }

    private WorkerPool pool(String name) {
        WorkerPool pool = new WorkerPool(name, new WorkerSettings(List.of("cpu"), Duration.ofSeconds(3),
                Duration.ofMillis(500), Duration.ofMillis(100)), queue, handlers, mapper, states);
        pools.add(pool);
        pool.start();
        return pool;
    }

    @Test
    void aCrashedFinetuneResumesFromItsSavedState() {
        TinyGpt2 base = new TinyGpt2().vocab(50257).seed(5);
        var upload = post("/checkpoints", new Multipart().file("config", "config.json", base.config())
                .file("weights", "model.safetensors", base.weights()));
        assertThat(upload.statusCode()).as(upload.body()).isEqualTo(201);
        String baseId = json(upload).path("id").asText();
        String dataset = uploadRepeatedTextDataset(40);

        JsonNode job = submit("""
                {"type": "finetune", "spec": {"base_checkpoint_id": "%s", "dataset_id": "%s",
                  "training": {"steps": 40, "batch_size": 2, "context": 8, "eval_every": 10, "eval_windows": 2,
                               "checkpoint_every": 20, "state_every": 10}}}""".formatted(baseId, dataset));
        UUID id = UUID.fromString(job.path("id").asText());

        WorkerPool doomed = pool("doomed");
        await(Duration.ofMinutes(2), () -> savedStates(id) == 1 && lossPoints(id) >= 15);
        doomed.halt();
        long pointsBeforeCrash = lossPoints(id);

        pool("rescuer");
        await(Duration.ofMinutes(3), () -> {
            queue.reapExpiredLeases();
            return "succeeded".equals(status(id));
        });

        assertThat(pointsBeforeCrash).isLessThan(40);
        assertThat(jdbc.queryForList("select step from loss_point where job_id = ? and series = 'train' order by step",
                Long.class, id)).containsExactlyElementsOf(LongStream.rangeClosed(1, 40).boxed().toList());
        List<String> kinds = jdbc.queryForList("select kind from job_event where job_id = ? order by id", String.class, id);
        assertThat(kinds).containsSubsequence("started", "requeued", "started", "resumed", "succeeded");
        String resumed = jdbc.queryForObject(
                "select message from job_event where job_id = ? and kind = 'resumed'", String.class, id);
        assertThat(resumed).matches(".*step (10|20|30)$");
        assertThat(jdbc.queryForList("select step from checkpoint where producing_job_id = ? order by step",
                Long.class, id)).containsExactly(20L, 40L);
        assertThat(savedStates(id)).isZero();
        assertThat(jdbc.queryForObject("select attempts from job where id = ?", Integer.class, id)).isEqualTo(2);
    }

    private String status(UUID id) {
        return jdbc.queryForObject("select status from job where id = ?", String.class, id);
    }

    private long lossPoints(UUID id) {
        return jdbc.queryForObject("select count(*) from loss_point where job_id = ? and series = 'train'", Long.class, id);
    }

    private int savedStates(UUID id) {
        return jdbc.queryForObject("select count(*) from blob_ref where owner_kind = 'job' and owner_id = ?",
                Integer.class, id);
    }

    private static void await(Duration timeout, java.util.function.BooleanSupplier condition) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("condition not met within " + timeout);
            }
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
        }
    }
}
