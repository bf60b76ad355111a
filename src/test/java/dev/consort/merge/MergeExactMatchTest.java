package dev.consort.merge;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

import org.junit.jupiter.api.Test;

import dev.consort.support.ApiTest;
import dev.consort.support.Multipart;
import dev.consort.support.TinyGpt2;
import tools.jackson.databind.JsonNode;

/**
 * Task accuracy beside the loss in a merge's results table, for every row. The specialists are MLP-only fine-tunes
 * of one base, so a linear merge with all weight on expert A, and a routed model that gives expert A's MLP all the
 * weight (activation interpolation at α = 1), are expert A itself: they must answer exactly as it does, the routed
 * one through its mixture of the experts' MLPs. The records' answers are expert A's own greedy continuations, so its
 * accuracy is known in advance.
 */
class MergeExactMatchTest extends ApiTest {

    private static final Duration TIMEOUT = Duration.ofMinutes(5);

    @Test
    void everyRowOfTheTableCarriesExactMatchWithItsInterval() {
        TinyGpt2 tiny = new TinyGpt2().vocab(50257).seed(43);
        tiny.nEmbd = 16;
        tiny.nPositions = 64;
        String base = json(post("/checkpoints", Multipart.checkpoint(tiny))).path("id").asText();
        String expertA = quickFinetune(base, wholeTextDataset("a.txt",
                "Seven times eight is fifty six. Nine plus four is thirteen. ".repeat(30)), TIMEOUT);
        String expertB = quickFinetune(base, wholeTextDataset("b.txt",
                "def add(x, y): return x + y. print(add(2, 3)). ".repeat(30)), TIMEOUT);

        String qa = greedyAnswersDataset(expertA);                // expert A answers 3 of its 5 records

        JsonNode job = runJob("""
                {"type": "merge", "spec": {"base_checkpoint_id": "%s", "expert_ids": ["%s", "%s"],
                  "eval_dataset_ids": ["%s"],
                  "evaluation": {"split": "train", "context": 16, "max_windows": 2, "metrics": ["loss", "exact_match"],
                                 "exact_match": {"answer_marker": "", "max_tokens": 4}},
                  "methods": [
                    {"method": "linear", "parameters": {"normalize": true},
                     "model_parameters": [{"weight": 1}, {"weight": 0}]},
                    {"method": "activation_interpolation", "parameters": {"alpha": 1}, "label": "routed to A"},
                    {"method": "activation_interpolation", "parameters": {"alpha": 0}, "label": "routed to B"}]}}"""
                .formatted(base, expertA, expertB, qa), TIMEOUT);

        Map<String, JsonNode> rows = new HashMap<>();
        for (JsonNode row : job.path("result").path("rows")) {
            JsonNode exact = row.path("exact_match");
            assertThat(exact.path("n").asInt()).as(row.toString()).isEqualTo(5);
            assertThat(exact.path("ci95_low").asDouble()).isLessThanOrEqualTo(exact.path("accuracy").asDouble());
            assertThat(exact.path("ci95_high").asDouble()).isGreaterThanOrEqualTo(exact.path("accuracy").asDouble());
            rows.put(row.path("label").asText(), row);
        }
        assertThat(rows).containsKeys("base", "expert 0", "expert 1", "routed to A", "routed to B");
        JsonNode a = rows.get("expert 0").path("exact_match");
        assertThat(a.path("correct").asInt()).isEqualTo(3);
        assertThat(a.path("ci95_low").asDouble()).isCloseTo(0.2307, within(1e-4));
        assertThat(rows.get("routed to A").path("exact_match")).isEqualTo(a);
        assertThat(rows.get("routed to B").path("exact_match")).isEqualTo(rows.get("expert 1").path("exact_match"));
        JsonNode linear = job.path("result").path("rows").valueStream()
                .filter(row -> row.path("method").asText().equals("linear")).findFirst().orElseThrow();
        assertThat(linear.path("exact_match")).isEqualTo(a);
        assertThat(rows.get("routed to A").path("loss").asDouble())
                .isCloseTo(rows.get("expert 0").path("loss").asDouble(), within(1e-5));
    }

    @Test
    void exactMatchSettingsWithoutTheMetricAreRefusedNamingTheEvaluationField() {
        String base = json(post("/checkpoints", Multipart.checkpoint(new TinyGpt2().seed(44)))).path("id").asText();
        String dataset = wholeTextDataset("em.txt", "some text to score on ".repeat(20));
        int merges = json(get("/jobs?type=merge&limit=100")).path("items").size();
        HttpResponse<String> refused = postJson("/jobs", """
                {"type": "merge", "spec": {"expert_ids": ["%s", "%s"], "eval_dataset_ids": ["%s"],
                  "evaluation": {"exact_match": {"max_records": 5}}, "method": "linear"}}"""
                .formatted(base, base, dataset));
        assertThat(refused.statusCode()).as(refused.body()).isEqualTo(422);
        assertThat(json(refused).path("errors").get(0).path("field").asText()).isEqualTo("spec.evaluation.exact_match");
        assertThat(json(get("/jobs?type=merge&limit=100")).path("items").size()).as("nothing queued").isEqualTo(merges);
    }
}
