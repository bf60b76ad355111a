package dev.consort.evaluation;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.net.http.HttpResponse;
import java.time.Duration;

import org.junit.jupiter.api.Test;

import dev.consort.support.ApiTest;
import dev.consort.support.Multipart;
import dev.consort.support.TinyGpt2;
import tools.jackson.databind.JsonNode;

/**
 * {@code evaluate} with {@code metrics: ["loss", "exact_match"]}: records whose answer is the model's own greedy
 * continuation count as right and the others as wrong, so the accuracy and its Wilson interval are known in advance.
 */
class EvaluateExactMatchTest extends ApiTest {

    private static final Duration TIMEOUT = Duration.ofMinutes(3);

    @Test
    void accuracyWithItsWilsonIntervalBesideTheLoss() {
        TinyGpt2 tiny = new TinyGpt2().vocab(50257).seed(41);
        tiny.nEmbd = 16;
        tiny.nPositions = 64;
        String checkpoint = json(post("/checkpoints", Multipart.checkpoint(tiny))).path("id").asText();

        String datasetId = greedyAnswersDataset(checkpoint);

        JsonNode job = runJob("""
                {"type": "evaluate", "spec": {"checkpoint_ids": ["%s"], "dataset_ids": ["%s"], "split": "train",
                  "context": 16, "max_windows": 2, "metrics": ["loss", "exact_match"],
                  "exact_match": {"answer_marker": "", "max_tokens": 4}}}""".formatted(checkpoint, datasetId), TIMEOUT);

        JsonNode row = job.path("result").path("rows").get(0);
        assertThat(row.path("loss").asDouble()).isFinite();
        JsonNode exact = row.path("exact_match");
        assertThat(exact.path("correct").asInt()).isEqualTo(3);
        assertThat(exact.path("n").asInt()).isEqualTo(5);
        assertThat(exact.path("skipped").asInt()).isZero();
        assertThat(exact.path("accuracy").asDouble()).isEqualTo(0.6);
        assertThat(exact.path("ci95_low").asDouble()).isCloseTo(0.2307, within(1e-4));
        assertThat(exact.path("ci95_high").asDouble()).isCloseTo(0.8824, within(1e-4));
    }

    @Test
    void exactMatchSettingsWithoutTheMetricOrMetricsWithoutLossAreRefused() {
        String checkpoint = json(post("/checkpoints", Multipart.checkpoint(new TinyGpt2().seed(42)))).path("id").asText();
        String dataset = wholeTextDataset("em.txt", "some text to score on ".repeat(20));
        HttpResponse<String> noLoss = postJson("/jobs", """
                {"type": "evaluate", "spec": {"checkpoint_ids": ["%s"], "dataset_ids": ["%s"],
                  "metrics": ["exact_match"]}}""".formatted(checkpoint, dataset));
        assertThat(noLoss.statusCode()).as(noLoss.body()).isEqualTo(422);
        assertThat(json(noLoss).path("errors").get(0).path("field").asText()).isEqualTo("spec.metrics");
        HttpResponse<String> settingsOnly = postJson("/jobs", """
                {"type": "evaluate", "spec": {"checkpoint_ids": ["%s"], "dataset_ids": ["%s"],
                  "exact_match": {"max_records": 5}}}""".formatted(checkpoint, dataset));
        assertThat(settingsOnly.statusCode()).as(settingsOnly.body()).isEqualTo(422);
        assertThat(json(settingsOnly).path("errors").get(0).path("field").asText()).isEqualTo("spec.exact_match");
    }
}
