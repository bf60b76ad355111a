package dev.consort.sweep;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.io.ByteArrayInputStream;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import javax.imageio.ImageIO;

import org.junit.jupiter.api.Test;

import dev.consort.support.ApiTest;
import dev.consort.support.Multipart;
import dev.consort.support.TinyGpt2;
import tools.jackson.databind.JsonNode;

/** A sweep over two tiny fine-tuning runs: per shared step the merge loss and CKA, the critical step, plots. */
class SweepJobTest extends ApiTest {

    private String dataset(String file, String text, String valFraction) {
        HttpResponse<String> response = post("/datasets", new Multipart()
                .file("file", file, text.getBytes(StandardCharsets.UTF_8)).field("val_fraction", valFraction));
        assertThat(response.statusCode()).as(response.body()).isEqualTo(201);
        return json(response).path("id").asText();
    }

    private JsonNode run(String body) {
        HttpResponse<String> created = postJson("/jobs", body);
        assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
        return awaitSuccess(json(created).path("id").asText(), Duration.ofMinutes(4));
    }

    @Test
    void findsTheCriticalStepAndPlotsIt() throws Exception {
        TinyGpt2 tiny = new TinyGpt2().vocab(50257).seed(31);
        tiny.nEmbd = 16;
        tiny.nPositions = 32;
        HttpResponse<String> upload = post("/checkpoints", new Multipart().file("config", "config.json", tiny.config())
                .file("weights", "model.safetensors", tiny.weights()));
        String base = json(upload).path("id").asText();
        String a = "Seven times eight is fifty six.\n\n".repeat(40);
        String b = "def add(x, y): return x + y\n\n".repeat(40);
        String textA = dataset("a.txt", a, "0.2");
        String textB = dataset("b.txt", b, "0.2");
        String mixed = dataset("mixed.txt", a + b, "0.2");
        String reference = dataset("reference.txt", "The history of the city begins in the middle ages.\n\n".repeat(40), "0.2");
        String runA = run(finetune(base, textA)).path("id").asText();
        String runB = run(finetune(base, textB)).path("id").asText();

        JsonNode sweep = run("""
                {"type": "sweep", "spec": {"finetune_job_a_id": "%s", "finetune_job_b_id": "%s",
                  "adaptation_dataset_id": "%s", "reference_dataset_id": "%s"}}""".formatted(runA, runB, mixed, reference));
        JsonNode rows = json(get("/jobs/" + sweep.path("id").asText() + "/results")).path("rows");
        // Step 0 (the base as both experts), then the three steps both runs saved.
        assertThat(rows).hasSize(4);
        double best = Double.POSITIVE_INFINITY;
        long bestStep = -1;
        for (JsonNode row : rows) {
            assertThat(row.path("cka_adaptation").asDouble()).isBetween(0.0, 1.0 + 1e-9);
            assertThat(row.path("cka_reference").asDouble()).isBetween(0.0, 1.0 + 1e-9);
            // The best interpolation is never worse than either end of the α grid (the experts alone).
            assertThat(row.path("merge_loss").asDouble()).isLessThanOrEqualTo(row.path("expert_a_loss").asDouble())
                    .isLessThanOrEqualTo(row.path("expert_b_loss").asDouble());
            if (row.path("merge_loss").asDouble() < best) {
                best = row.path("merge_loss").asDouble();
                bestStep = row.path("step").asLong();
            }
        }
        assertThat(rows).extracting(row -> row.path("step").asLong()).containsExactly(0L, 4L, 8L, 12L);
        JsonNode atBase = rows.get(0);
        assertThat(atBase.path("checkpoint_a_id").asText()).isEqualTo(base).isEqualTo(atBase.path("checkpoint_b_id").asText());
        // The base merged with itself is the base: no gain, and a representation is identical to itself.
        assertThat(atBase.path("merge_loss").asDouble()).isCloseTo(atBase.path("expert_a_loss").asDouble(), within(1e-6));
        assertThat(atBase.path("gain_over_better_expert").path("gain").asDouble()).isCloseTo(0, within(1e-6));
        assertThat(atBase.path("cka_adaptation").asDouble()).isCloseTo(1, within(1e-6));
        for (JsonNode row : rows) {
            // The gain is paired over the same windows: the better expert's loss minus the merge's.
            JsonNode gain = row.path("gain_over_better_expert");
            double better = Math.min(row.path("expert_a_loss").asDouble(), row.path("expert_b_loss").asDouble());
            assertThat(gain.path("gain").asDouble()).isCloseTo(better - row.path("merge_loss").asDouble(), within(1e-9));
            assertThat(gain.path("ci95_low").asDouble()).isLessThanOrEqualTo(gain.path("gain").asDouble());
            assertThat(gain.path("n").asInt()).isEqualTo(sweep.path("result").path("windows").asInt());
            assertThat(row.path("merge_loss_se").asDouble()).isPositive();
        }
        JsonNode result = sweep.path("result");
        assertThat(result.path("critical_step").asLong()).isEqualTo(bestStep);
        assertThat(result.path("critical_step_ci95")).hasSize(2);
        assertThat(result.path("critical_step_ci95").get(0).asLong()).isLessThanOrEqualTo(bestStep);
        assertThat(result.path("critical_step_ci95").get(1).asLong()).isGreaterThanOrEqualTo(bestStep);
        assertThat(result.path("verdict").asText()).contains("minimum");
        // Each expert's own turn: its lowest adaptation loss over the rows, and the last row paired against it.
        for (String expert : new String[] {"a", "b"}) {
            JsonNode turn = result.path("expert_" + expert + "_turn");
            JsonNode lowestRow = null;
            for (JsonNode row : rows) {
                if (lowestRow == null || row.path("expert_" + expert + "_loss").asDouble()
                        < lowestRow.path("expert_" + expert + "_loss").asDouble()) {
                    lowestRow = row;
                }
            }
            assertThat(turn.path("lowest_step").asLong()).isEqualTo(lowestRow.path("step").asLong());
            assertThat(turn.path("last_step_minus_lowest").path("difference").asDouble()).isCloseTo(
                    rows.get(rows.size() - 1).path("expert_" + expert + "_loss").asDouble()
                            - lowestRow.path("expert_" + expert + "_loss").asDouble(), within(1e-9));
            assertThat(turn.path("turns_upward").isBoolean()).isTrue();
        }
        // The paper's CKA: the residual stream of layer n_layer / 2 (1 of these 2 layers), averaged over windows.
        assertThat(result.path("layer").asInt()).isEqualTo(1);

        for (String plot : new String[] {"merge-loss-vs-step", "gain-vs-step", "cka-vs-step", "merge-loss-vs-cka"}) {
            HttpResponse<byte[]> png = getBytes("/jobs/" + sweep.path("id").asText() + "/plots/" + plot);
            assertThat(png.statusCode()).isEqualTo(200);
            assertThat(ImageIO.read(new ByteArrayInputStream(png.body()))).isNotNull();
        }
        assertThat(get("/jobs/" + sweep.path("id").asText() + "/plots/pie").statusCode()).isEqualTo(404);
        // Figure 3 reads the merge against each expert alone, and the CKA on both datasets along the steps.
        assertThat(get("/jobs/" + sweep.path("id").asText() + "/plots/merge-loss-vs-step?format=svg").body())
                .contains("expert A alone").contains("expert B alone").contains("critical step");
        assertThat(get("/jobs/" + sweep.path("id").asText() + "/plots/cka-vs-step?format=svg").body())
                .contains("CKA between the specialists").contains("adaptation data").contains("reference data");

        // What the sweep realised teaches the compatibility model (its steps but step 0, CKA as the paper measures it).
        JsonNode model = json(get("/compatibility/model"));
        assertThat(model.path("observations").asInt()).isGreaterThanOrEqualTo(3);
        assertThat(model.path("sweeps").asInt()).isGreaterThanOrEqualTo(1);
        JsonNode last = rows.get(rows.size() - 1);
        JsonNode compatibility = run("""
                {"type": "compatibility", "spec": {"expert_ids": ["%s", "%s"], "probe_dataset_id": "%s", "windows": 4}}"""
                .formatted(last.path("checkpoint_a_id").asText(), last.path("checkpoint_b_id").asText(), mixed));
        JsonNode prediction = compatibility.path("result");
        assertThat(prediction.path("cka").asDouble()).isBetween(-1e-9, 1 + 1e-9);
        JsonNode gain = prediction.path("predicted_gain");
        assertThat(gain.path("ci95_low").asDouble()).isLessThanOrEqualTo(gain.path("gain").asDouble());
        assertThat(gain.path("ci95_high").asDouble()).isGreaterThanOrEqualTo(gain.path("gain").asDouble());
        assertThat(prediction.path("recommendation").asText()).isIn("merge", "fine-tune instead", "measure");
        assertThat(prediction.path("recommendation").asText()).isEqualTo(gain.path("ci95_low").asDouble() > 0 ? "merge"
                : gain.path("ci95_high").asDouble() < 0 ? "fine-tune instead" : "measure");
        // No sweep merged with ties: there is nothing to predict its gain from.
        HttpResponse<String> untaught = postJson("/jobs", """
                {"type": "compatibility", "spec": {"expert_ids": ["%s", "%s"], "probe_dataset_id": "%s", "merge_method": "ties"}}"""
                .formatted(last.path("checkpoint_a_id").asText(), last.path("checkpoint_b_id").asText(), mixed));
        assertThat(untaught.statusCode()).isEqualTo(422);
        assertThat(untaught.body()).contains("spec.merge_method").contains("run a sweep");

        // Until when can weights still be averaged? Any weight-space method along the same steps.
        JsonNode linear = run("""
                {"type": "sweep", "spec": {"finetune_job_a_id": "%s", "finetune_job_b_id": "%s",
                  "adaptation_dataset_id": "%s", "reference_dataset_id": "%s", "method": "linear",
                  "parameters": {"weight": 0.5}, "evaluation": {"max_windows": 4},
                  "cka": {"representation": "mlp", "pooling": "token", "mean_over_layers": true}}}"""
                .formatted(runA, runB, mixed, reference));
        JsonNode linearRows = linear.path("result").path("rows");
        assertThat(linearRows).hasSize(4);
        assertThat(linear.path("result").path("method").asText()).isEqualTo("linear");
        assertThat(linear.path("result").path("windows").asInt()).isLessThanOrEqualTo(4);
        assertThat(linearRows.get(0).has("best_alpha")).isFalse();
        // At step 0 both experts are the base, so their average is the base.
        assertThat(linearRows.get(0).path("merge_loss").asDouble())
                .isCloseTo(linearRows.get(0).path("expert_a_loss").asDouble(), within(1e-5));
        HttpResponse<String> routers = postJson("/jobs", """
                {"type": "sweep", "spec": {"finetune_job_a_id": "%s", "finetune_job_b_id": "%s",
                  "adaptation_dataset_id": "%s", "reference_dataset_id": "%s", "method": "layer_routing"}}"""
                .formatted(runA, runB, mixed, reference));
        assertThat(routers.statusCode()).isEqualTo(422);
        assertThat(routers.body()).contains("spec.method").contains("fit routers in a merge job");

        HttpResponse<String> notRuns = postJson("/jobs", """
                {"type": "sweep", "spec": {"finetune_job_a_id": "%s", "finetune_job_b_id": "%s",
                  "adaptation_dataset_id": "%s", "reference_dataset_id": "%s", "layer": 9}}"""
                .formatted(sweep.path("id").asText(), runB, mixed, reference));
        assertThat(notRuns.statusCode()).isEqualTo(422);
        assertThat(notRuns.body()).contains("spec.finetune_job_a_id");
        HttpResponse<String> badLayer = postJson("/jobs", """
                {"type": "sweep", "spec": {"finetune_job_a_id": "%s", "finetune_job_b_id": "%s",
                  "adaptation_dataset_id": "%s", "reference_dataset_id": "%s", "layer": 9}}"""
                .formatted(runA, runB, mixed, reference));
        assertThat(badLayer.statusCode()).isEqualTo(422);
        assertThat(badLayer.body()).contains("spec.layer");
    }

    private static String finetune(String base, String dataset) {
        return """
                {"type": "finetune", "spec": {"base_checkpoint_id": "%s", "dataset_id": "%s",
                  "training": {"steps": 12, "batch_size": 4, "context": 16, "learning_rate": 0.01,
                               "checkpoint_every": 4, "eval_windows": 2}}}""".formatted(base, dataset);
    }
}
