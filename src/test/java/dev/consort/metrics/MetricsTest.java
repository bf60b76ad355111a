package dev.consort.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Arrays;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;

import dev.consort.database.TimeOrderedIds;
import dev.consort.support.ApiTest;
import dev.consort.worker.CountingTestHandler;
import dev.consort.worker.JobQueue;

/** After a job runs, /actuator/prometheus shows it; no series is labelled with a job id; logs name the job. */
@ExtendWith(OutputCaptureExtension.class)
class MetricsTest extends ApiTest {

    @Autowired
    JobGauges gauges;
    @Autowired
    TrainingMetrics training;
    @Autowired
    JobQueue queue;

    @Test
    void aFinishedJobShowsUpInPrometheusWithoutItsId(CapturedOutput output) throws InterruptedException {
        HttpResponse<String> created = postJson("/jobs", "{\"type\": \"" + CountingTestHandler.TYPE
                + "\", \"spec\": {\"steps\": 3, \"step_millis\": 5}}");
        assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
        String id = json(created).path("id").asText();
        awaitStatus(id, "succeeded");

        // What training code reports each step.
        training.recordStep(Duration.ofMillis(120), 4096);
        // A worker that vanished: its job's lease has expired, the reaper requeues it.
        UUID orphan = TimeOrderedIds.next();
        jdbc.update("""
                insert into job (id, type, status, spec, device_class, max_attempts, attempts, lease_owner,
                                 lease_expires_at, started_at)
                values (?, ?, 'running', '{"steps": 1}'::jsonb, 'metrics-lab', 3, 1, 'gone', now() - interval '1 minute',
                        now() - interval '2 minutes')""", orphan, CountingTestHandler.TYPE);
        assertThat(queue.reapExpiredLeases()).isGreaterThanOrEqualTo(1);
        gauges.refresh();

        HttpResponse<String> scraped = get("/actuator/prometheus");
        assertThat(scraped.statusCode()).isEqualTo(200);
        String metrics = scraped.body();

        assertThat(value(metrics, "consort_job_duration_seconds_count",
                Map.of("type", CountingTestHandler.TYPE, "outcome", "succeeded"))).hasValueSatisfying(
                        count -> assertThat(count).isGreaterThanOrEqualTo(1));
        assertThat(value(metrics, "consort_jobs", Map.of("state", "succeeded"))).hasValueSatisfying(
                count -> assertThat(count).isGreaterThanOrEqualTo(1));
        assertThat(value(metrics, "consort_jobs", Map.of("state", "queued"))).isPresent();
        assertThat(value(metrics, "consort_queue_depth", Map.of("device_class", "metrics-lab"))).hasValueSatisfying(
                depth -> assertThat(depth).isGreaterThanOrEqualTo(1));
        assertThat(value(metrics, "consort_queue_depth", Map.of("device_class", "gpu"))).isPresent();
        assertThat(value(metrics, "consort_lease_expired_total", Map.of("outcome", "requeued"))).hasValueSatisfying(
                count -> assertThat(count).isGreaterThanOrEqualTo(1));
        assertThat(value(metrics, "consort_training_step_seconds_count", Map.of())).hasValueSatisfying(
                count -> assertThat(count).isGreaterThanOrEqualTo(1));
        assertThat(value(metrics, "consort_training_tokens_total", Map.of())).hasValueSatisfying(
                tokens -> assertThat(tokens).isGreaterThanOrEqualTo(4096));

        assertThat(metrics).doesNotContain(id).doesNotContain(orphan.toString());
        assertThat(output.getAll()).containsPattern("\\[job:" + id + "\\].*Running " + CountingTestHandler.TYPE);

        jdbc.update("update job set status = 'cancelled', finished_at = now() where id = ?", orphan);
    }

    /** The value of the first sample of {@code name} carrying all of {@code labels}. */
    private static Optional<Double> value(String exposition, String name, Map<String, String> labels) {
        return Arrays.stream(exposition.split("\n"))
                .filter(line -> line.startsWith(name + "{") || line.startsWith(name + " "))
                .filter(line -> labels.entrySet().stream()
                        .allMatch(l -> line.contains(l.getKey() + "=\"" + l.getValue() + "\"")))
                .map(line -> Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1)))
                .findFirst();
    }

    private void awaitStatus(String id, String status) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (!status.equals(json(get("/jobs/" + id)).path("status").asText())) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("job " + id + " never became " + status);
            }
            Thread.sleep(50);
        }
    }
}
