package dev.consort.merge;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.springframework.beans.factory.annotation.Autowired;

import dev.consort.support.ApiTest;
import dev.consort.support.Multipart;
import dev.consort.support.TinyGpt2;
import tools.jackson.databind.JsonNode;

/**
 * Merge jobs over HTTP: a tiny base (2 layers, width 16), two specialists fine-tuned from it here (MLP
 * only) on two different texts, every method compared on both texts in one table, plus the validation
 * that keeps a bad merge from being queued.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class MergeJobTest extends ApiTest {

    private static final Duration TIMEOUT = Duration.ofMinutes(5);
    private String base;
    private String expertA;
    private String expertB;
    private String textA;
    private String textB;
    private String mixed;

    @BeforeAll
    void specialists() {
        TinyGpt2 tiny = new TinyGpt2().vocab(50257).seed(21);
        tiny.nEmbd = 16;
        tiny.nPositions = 32;
        base = upload(tiny, "merge-base");
        String a = "Seven times eight is fifty six. Nine plus four is thirteen. ";
        String b = "def add(x, y): return x + y. print(add(2, 3)). ";
        textA = dataset("a.txt", a.repeat(30));
        textB = dataset("b.txt", b.repeat(30));
        // Records: alternating texts, the last fifth held out for choosing the routers' best step.
        HttpResponse<String> adaptation = post("/datasets", new Multipart().file("file", "mixed.txt",
                (a + "\n\n" + b + "\n\n").repeat(15).getBytes(StandardCharsets.UTF_8)).field("val_fraction", "0.2"));
        assertThat(adaptation.statusCode()).as(adaptation.body()).isEqualTo(201);
        mixed = json(adaptation).path("id").asText();
        expertA = finetune(textA);
        expertB = finetune(textB);
    }

    private String upload(TinyGpt2 model, String name) {
        HttpResponse<String> response = post("/checkpoints", new Multipart().file("config", "config.json", model.config())
                .file("weights", "model.safetensors", model.weights()).field("name", name));
        assertThat(response.statusCode()).as(response.body()).isEqualTo(201);
        return json(response).path("id").asText();
    }

    private String dataset(String file, String text) {
        return wholeTextDataset(file, text);
    }

    private String finetune(String dataset) {
        return quickFinetune(base, dataset, TIMEOUT);
    }

    private JsonNode run(String body) {
        return runJob(body, TIMEOUT);
    }

    private JsonNode await(String id) {
        return awaitSuccess(id, TIMEOUT);
    }

    private String evaluation() {
        return "\"eval_dataset_ids\": [\"" + textA + "\", \"" + textB + "\"], \"evaluation\": {\"split\": \"train\", "
                + "\"context\": 16, \"max_windows\": 8}";
    }

    @Test
    void everyMethodInOneTableWithTheBaseline() {
        JsonNode job = run("""
                {"type": "merge", "spec": {"base_checkpoint_id": "%s", "expert_ids": ["%s", "%s"],
                  "adaptation_dataset_id": "%s", %s,
                  "methods": [
                    {"method": "linear", "parameters": {"weight": 0.5}},
                    {"method": "slerp", "parameters": {"t": 0.5}},
                    {"method": "task_arithmetic", "parameters": {"weight": 1.0, "lambda": 1.0}},
                    {"method": "ties", "parameters": {"density": 0.5}, "model_parameters": [{"weight": 1}, {"weight": 1}]},
                    {"method": "dare_ties", "parameters": {"weight": 1.0, "density": 0.5}},
                    {"method": "breadcrumbs", "parameters": {"weight": 1.0, "density": 0.8, "gamma": 0.05}},
                    {"method": "model_stock"},
                    {"method": "della", "parameters": {"weight": 1.0, "density": 0.5, "epsilon": 0.2}},
                    {"method": "sce", "parameters": {"select_topk": 0.5}},
                    {"method": "karcher"},
                    {"method": "activation_interpolation"},
                    {"method": "single_router"},
                    {"method": "layer_routing", "parameters": {"router": "linear"}},
                    {"method": "layer_routing", "parameters": {"include_base": true, "router": "mlp"}, "label": "layer routing + base"},
                    {"method": "multi_layer_routing", "parameters": {"span": 2, "top_k": 2}}],
                  "router_training": {"steps": 20, "batch_size": 4, "context": 16, "eval_every": 5, "eval_windows": 4},
                  "baseline": {"finetune": {"training": {"steps": 10, "batch_size": 4, "context": 16}}}}}"""
                .formatted(base, expertA, expertB, mixed, evaluation()));
        String id = job.path("id").asText();
        JsonNode rows = json(get("/jobs/" + id + "/results")).path("rows");
        // base + 2 experts + 15 methods + baseline, each on 2 datasets
        assertThat(rows).hasSize(19 * 2);
        Map<String, Double> lossOnA = new HashMap<>();
        for (JsonNode row : rows) {
            assertThat(row.path("loss").asDouble()).isPositive();
            assertThat(row.path("tokens").asLong()).isEqualTo(8 * 16);
            if (row.path("dataset_id").asText().equals(textA)) {
                lossOnA.put(row.path("label").asText(), row.path("loss").asDouble());
            }
        }
        assertThat(lossOnA).containsKeys("base", "expert 0", "expert 1", "linear", "ties", "della", "sce", "karcher",
                "activation_interpolation",
                "layer routing + base", "multi_layer_routing", "finetune baseline");
        // The specialist in A beats the base on A.
        assertThat(lossOnA.get("expert 0")).isLessThan(lossOnA.get("base"));
        // Every row against the better expert and the baseline on its dataset, paired over the same windows.
        for (JsonNode row : rows) {
            assertThat(row.path("loss_se").asDouble()).as(row.toString()).isPositive();
            for (String comparison : List.of("vs_best_expert", "vs_baseline")) {
                JsonNode versus = row.path(comparison);
                assertThat(versus.path("n").asInt()).as(comparison).isEqualTo(8);
                assertThat(versus.path("ci95_low").asDouble()).isLessThanOrEqualTo(versus.path("difference").asDouble());
                assertThat(versus.path("ci95_high").asDouble()).isGreaterThanOrEqualTo(versus.path("difference").asDouble());
            }
            String label = row.path("vs_best_expert").path("label").asText();
            assertThat(label).isIn("expert 0", "expert 1");
            double bestExpert = rowLoss(rows, label, row.path("dataset_id").asText());
            assertThat(row.path("vs_best_expert").path("difference").asDouble())
                    .isCloseTo(row.path("loss").asDouble() - bestExpert, within(1e-9));
            assertThat(bestExpert).isLessThanOrEqualTo(rowLoss(rows, "expert 0", row.path("dataset_id").asText()));
            assertThat(row.path("vs_baseline").path("label").asText()).isEqualTo("finetune baseline");
            if (row.path("method").asText().equals("finetune_baseline")) {
                // The paper's baseline as its code runs it: the MLPs only, lr 8e-5.
                assertThat(row.path("parameters").path("trainable").asText()).isEqualTo("mlp");
                assertThat(row.path("parameters").path("learning_rate").asDouble()).isEqualTo(8e-5);
            }
        }

        JsonNode outputs = job.path("result").path("outputs");
        List<String> kinds = new ArrayList<>();
        outputs.forEach(o -> kinds.add(o.path("kind").asText()));
        assertThat(kinds.stream().filter("checkpoint"::equals)).hasSize(11); // 10 weight-space + baseline
        assertThat(kinds.stream().filter("routed_model"::equals)).hasSize(5);
        JsonNode interpolation = outputs.get(10);
        assertThat(interpolation.path("alpha_curve")).hasSize(11);
        JsonNode routing = outputs.get(12);
        assertThat(routing.path("router_fit").path("steps").asInt()).isEqualTo(20);
        // Router statistics for every routed model: a row per layer, a weight per expert, each row summing to 1.
        for (JsonNode output : outputs) {
            if (!output.path("kind").asText().equals("routed_model")) {
                continue;
            }
            JsonNode weights = output.path("router_weights");
            int experts = switch (output.path("label").asText()) {
                case "layer routing + base" -> 3;
                case "multi_layer_routing" -> 4;
                default -> 2;
            };
            assertThat(weights.path("experts")).as(output.toString()).hasSize(experts);
            assertThat(weights.path("layers")).hasSize(2);
            for (JsonNode layer : weights.path("layers")) {
                double sum = 0;
                for (JsonNode weight : layer) {
                    sum += weight.asDouble();
                }
                assertThat(sum).isCloseTo(1, within(1e-5));
            }
        }
        HttpResponse<byte[]> heatmap = getBytes("/jobs/" + id + "/plots/router-weights");
        assertThat(heatmap.statusCode()).isEqualTo(200);
        assertThat(heatmap.headers().firstValue("Content-Type")).hasValue("image/png");

        String merged = outputs.get(0).path("checkpoint_id").asText();
        JsonNode checkpoint = json(get("/checkpoints/" + merged));
        assertThat(checkpoint.path("producing_job_id").asText()).isEqualTo(id);
        assertThat(checkpoint.path("parent_id").asText()).isEqualTo(base);
        assertThat(checkpoint.path("merged_from")).extracting(JsonNode::asText).containsExactly(expertA, expertB);
        assertThat(getBytes("/checkpoints/" + merged + "/model.safetensors").statusCode()).isEqualTo(200);

        String routed = routing.path("routed_model_id").asText();
        JsonNode model = json(get("/routed-models/" + routed));
        assertThat(model.path("kind").asText()).isEqualTo("layer_routing");
        assertThat(model.path("expert_ids")).hasSize(2);
        assertThat(getBytes("/routed-models/" + routed + "/router.safetensors").statusCode()).isEqualTo(200);
        assertThat(json(get("/routed-models/" + routed + "/description.json")).path("experts")).hasSize(2);
        assertThat(get("/routed-models/" + interpolation.path("routed_model_id").asText() + "/router.safetensors")
                .statusCode()).isEqualTo(404);

        List<String> series = new ArrayList<>();
        json(get("/jobs/" + id + "/losses")).path("series").forEach(s -> series.add(s.path("name").asText()));
        assertThat(series).contains("layer_routing/router_train", "layer_routing/router_validation",
                "activation_interpolation/alpha", "baseline/train");

        // An expert a routed model runs cannot be deleted from under it.
        HttpResponse<String> refused = delete("/checkpoints/" + expertA);
        assertThat(refused.statusCode()).isEqualTo(409);
        assertThat(refused.body()).contains(routed);
    }

    private static double rowLoss(JsonNode rows, String label, String dataset) {
        for (JsonNode row : rows) {
            if (row.path("label").asText().equals(label) && row.path("dataset_id").asText().equals(dataset)) {
                return row.path("loss").asDouble();
            }
        }
        throw new AssertionError("no row " + label + " on " + dataset);
    }

    @Autowired
    RoutedModelCatalog routedModels;

    @Test
    void aJobRunAgainAfterLosingItsWorkerKeepsOneRoutedModelPerMethod() {
        JsonNode job = run("""
                {"type": "merge", "spec": {"base_checkpoint_id": "%s", "expert_ids": ["%s", "%s"],
                  "adaptation_dataset_id": "%s", %s, "methods": [{"method": "activation_interpolation"}]}}"""
                .formatted(base, expertA, expertB, mixed, evaluation()));
        UUID jobId = UUID.fromString(job.path("id").asText());
        String first = job.path("result").path("outputs").get(0).path("routed_model_id").asText();
        JsonNode stored = json(get("/routed-models/" + first));

        // What a second attempt of the same job stores for the same method.
        UUID second = routedModels.store(stored.path("name").asText(), stored.path("kind").asText(),
                stored.path("description").toString(), null, UUID.fromString(base),
                List.of(UUID.fromString(expertA), UUID.fromString(expertB)), jobId).id();

        assertThat(jdbc.queryForList("select id from routed_model where producing_job_id = ?", UUID.class, jobId))
                .containsExactly(second);
        assertThat(get("/routed-models/" + first).statusCode()).isEqualTo(404);
    }

    @Test
    void linearWithAllWeightOnTheFirstExpertIsThatExpert() {
        JsonNode job = run("""
                {"type": "merge", "spec": {"expert_ids": ["%s", "%s"], %s,
                  "methods": [{"method": "linear", "parameters": {"normalize": true},
                               "model_parameters": [{"weight": 1}, {"weight": 0}]}]}}""".formatted(expertA, expertB,
                evaluation()));
        JsonNode rows = json(get("/jobs/" + job.path("id").asText() + "/results")).path("rows");
        Map<String, Double> expert = new HashMap<>();
        Map<String, Double> linear = new HashMap<>();
        for (JsonNode row : rows) {
            (row.path("label").asText().equals("expert 0") ? expert : row.path("method").asText().equals("linear")
                    ? linear : new HashMap<String, Double>()).put(row.path("dataset_id").asText(), row.path("loss").asDouble());
        }
        assertThat(linear).isEqualTo(expert);
        // No routed model, no router weights to draw.
        assertThat(get("/jobs/" + job.path("id").asText() + "/plots/router-weights").statusCode()).isEqualTo(404);
    }

    /** mergekit's dtype (YAML) and out_dtype (JSON) set the dtype the merged checkpoint is written in. */
    @Test
    void mergedWeightsAreWrittenInTheDtypeAsked() {
        JsonNode bf16 = run("""
                {"type": "merge", "spec": {"expert_ids": ["%s", "%s"], %s, "out_dtype": "bfloat16",
                  "method": "linear", "parameters": {"weight": 0.5}}}""".formatted(expertA, expertB, evaluation()));
        String bf16Output = bf16.path("result").path("outputs").get(0).path("checkpoint_id").asText();
        assertThat(json(get("/checkpoints/" + bf16Output)).path("dtype").asText()).isEqualTo("BF16");

        HttpResponse<String> created = send(HttpRequest.newBuilder(uri("/jobs?eval_dataset_id=" + textA))
                .header("Content-Type", "application/yaml").POST(HttpRequest.BodyPublishers.ofString("""
                        merge_method: linear
                        models:
                          - model: %s
                            parameters: {weight: 0.5}
                          - model: %s
                            parameters: {weight: 0.5}
                        dtype: float16
                        """.formatted(expertA, expertB))));
        assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
        JsonNode f16 = await(json(created).path("id").asText());
        assertThat(f16.path("spec").path("out_dtype").asText()).isEqualTo("float16");
        String f16Output = f16.path("result").path("outputs").get(0).path("checkpoint_id").asText();
        assertThat(json(get("/checkpoints/" + f16Output)).path("dtype").asText()).isEqualTo("F16");
        // Both were evaluated like any output: the job's table has their losses.
        for (JsonNode job : List.of(bf16, f16)) {
            assertThat(job.path("result").path("rows").findValues("loss")).isNotEmpty()
                    .allSatisfy(loss -> assertThat(loss.asDouble()).isFinite());
        }
    }

    @Test
    void aMergekitYamlMergeEqualsTheSameMergeSentAsJson() {
        String yaml = """
                merge_method: ties
                base_model: merge-base
                models:
                  - model: %s
                    parameters: {weight: 0.7, density: 0.6}
                  - model: %s
                    parameters: {weight: 0.3, density: [0.4, 0.8]}
                parameters:
                  normalize: true
                  lambda: 1.2
                dtype: float32
                """.formatted(expertA, expertB);
        HttpResponse<String> created = send(HttpRequest.newBuilder(uri("/jobs?eval_dataset_id=" + textA))
                .header("Content-Type", "application/yaml").POST(HttpRequest.BodyPublishers.ofString(yaml)));
        assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
        JsonNode fromYaml = await(json(created).path("id").asText());

        JsonNode fromJson = run("""
                {"type": "merge", "spec": {"base_checkpoint_id": "%s", "expert_ids": ["%s", "%s"],
                  "eval_dataset_ids": ["%s"],
                  "methods": [{"method": "ties", "parameters": {"normalize": true, "lambda": 1.2},
                    "model_parameters": [{"weight": 0.7, "density": 0.6}, {"weight": 0.3, "density": [0.4, 0.8]}]}]}}"""
                .formatted(base, expertA, expertB, textA));
        String yamlOutput = fromYaml.path("result").path("outputs").get(0).path("checkpoint_id").asText();
        String jsonOutput = fromJson.path("result").path("outputs").get(0).path("checkpoint_id").asText();
        assertThat(yamlOutput).isNotEqualTo(jsonOutput);
        assertThat(json(get("/checkpoints/" + yamlOutput)).path("sha256").asText())
                .isEqualTo(json(get("/checkpoints/" + jsonOutput)).path("sha256").asText());

        HttpResponse<String> unsupported = send(HttpRequest.newBuilder(uri("/jobs?eval_dataset_id=" + textA))
                .header("Content-Type", "application/yaml")
                .POST(HttpRequest.BodyPublishers.ofString(yaml + "tokenizer_source: union\n")));
        assertThat(unsupported.statusCode()).isEqualTo(422);
        assertThat(unsupported.body()).contains("tokenizer_source");
        HttpResponse<String> unknownModel = send(HttpRequest.newBuilder(uri("/jobs?eval_dataset_id=" + textA))
                .header("Content-Type", "application/yaml")
                .POST(HttpRequest.BodyPublishers.ofString(yaml.replace("merge-base", "no-such-model"))));
        assertThat(unknownModel.statusCode()).isEqualTo(422);
        assertThat(unknownModel.body()).contains("base_model").contains("no-such-model");
    }

    @Test
    void badMergesAre422sNamingWhatIsWrongAndQueueNothing() {
        int before = jdbc.queryForObject("select count(*) from job", Integer.class);
        String experts = "\"expert_ids\": [\"" + expertA + "\", \"" + expertB + "\"], " + evaluation();
        assertRejected("{\"method\": \"frankenmerge\", " + experts + "}", "method");
        assertRejected("{\"method\": \"ties\", \"parameters\": {\"density\": 1.5}, \"base_checkpoint_id\": \"" + base
                + "\", " + experts + "}", "parameters.density");
        assertRejected("{\"method\": \"slerp\", \"parameters\": {\"t\": 2}, " + experts + "}", "parameters.t");
        assertRejected("{\"method\": \"ties\", \"parameters\": {\"density\": 0.5}, " + experts + "}", "base_checkpoint_id");
        assertRejected("{\"method\": \"multi_layer_routing\", \"parameters\": {\"span\": 3}, \"adaptation_dataset_id\": \""
                + mixed + "\", " + experts + "}", "parameters.span");
        assertRejected("{\"method\": \"layer_routing\", " + experts + "}", "adaptation_dataset_id");
        assertRejected("{\"method\": \"layer_routing\", \"parameters\": {\"include_base\": true}, \"adaptation_dataset_id\": \""
                + mixed + "\", " + experts + "}", "parameters.include_base");
        assertRejected("{\"method\": \"activation_interpolation\", \"expert_ids\": [\"" + expertA + "\", \"" + expertB
                + "\", \"" + base + "\"], \"adaptation_dataset_id\": \"" + mixed + "\", " + evaluation() + "}", "expert_ids");
        assertRejected("{\"method\": \"linear\", \"parameters\": {\"weight\": 1, \"colour\": 1}, " + experts + "}",
                "parameters.colour");
        assertRejected("{\"method\": \"linear\", \"methods\": [{\"method\": \"slerp\"}], " + experts + "}", "methods");
        assertRejected("{\"expert_ids\": [\"" + expertA + "\", \"" + expertB + "\"], \"method\": \"linear\"}",
                "eval_dataset_ids");
        assertRejected("{\"method\": \"linear\", \"parameters\": {\"weight\": 1}, \"baseline\": {\"finetune\": "
                + "{\"training\": {\"steps\": 5}}}, " + experts + "}", "adaptation_dataset_id");
        // A router scores span × models: two experts with span 2 allow top_k up to 4, span 1 up to 2.
        assertRejected("{\"method\": \"layer_routing\", \"parameters\": {\"top_k\": 3}, \"adaptation_dataset_id\": \""
                + mixed + "\", " + experts + "}", "parameters.top_k");
        assertRejected("{\"method\": \"multi_layer_routing\", \"parameters\": {\"span\": 2, \"top_k\": 5}, "
                + "\"adaptation_dataset_id\": \"" + mixed + "\", " + experts + "}", "parameters.top_k");
        assertRejected("{\"method\": \"activation_interpolation\", \"parameters\": {\"alpha\": 0.5, \"alphas\": [0, 1]}, "
                + experts + "}", "parameters.alphas");
        assertRejected("{\"method\": \"linear\", \"parameters\": {\"weight\": 1}, \"evaluation\": {\"context\": 4096}, "
                + "\"expert_ids\": [\"" + expertA + "\", \"" + expertB + "\"], \"eval_dataset_ids\": [\"" + textA + "\"]}",
                "evaluation.context");

        TinyGpt2 narrow = new TinyGpt2().vocab(50257).seed(3);
        String other = upload(narrow, "narrow");
        assertRejected("{\"method\": \"linear\", \"parameters\": {\"weight\": 1}, \"expert_ids\": [\"" + expertA + "\", \"" + other + "\"], "
                + evaluation() + "}", "expert_ids[1]");
        assertThat(jdbc.queryForObject("select count(*) from job", Integer.class)).isEqualTo(before);
    }

    /**
     * Task vectors and routed models assume experts fine-tuned from the shared model with only their MLPs trained.
     * Checking that reads every shared tensor, so the submission (which reads no weights) accepts the merge and
     * the worker fails it before merging anything, naming the expert and the first tensor that differs.
     */
    @Test
    void aMergeOfAModelNotFineTunedFromTheBaseFailsOnTheWorkerNamingTheTensor() {
        TinyGpt2 stranger = new TinyGpt2().vocab(50257).seed(99);
        stranger.nEmbd = 16;
        stranger.nPositions = 32;
        String unrelated = upload(stranger, "unrelated");
        HttpResponse<String> created = postJson("/jobs", "{\"type\": \"merge\", \"spec\": {\"method\": "
                + "\"task_arithmetic\", \"parameters\": {\"weight\": 1}, \"base_checkpoint_id\": \"" + base
                + "\", \"expert_ids\": [\"" + expertA + "\", \"" + unrelated + "\"], " + evaluation() + "}}");
        assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
        String id = json(created).path("id").asText();
        JsonNode failed = awaitJob(id, TIMEOUT, "failed");
        assertThat(failed.path("error").path("code").asText()).isEqualTo("incompatible_models");
        assertThat(failed.path("error").path("message").asText()).startsWith("expert_ids[1]: tensor ")
                .containsPattern("(wte|wpe|h\\.\\d+\\.(ln_|attn)|ln_f)").contains("differs from the base model's");
        assertThat(jdbc.queryForObject("select count(*) from checkpoint where producing_job_id = ?::uuid",
                Integer.class, id)).isZero();
    }

    /**
     * Router budgets sized to the data (epochs of the adaptation set), stopped when validation stops improving,
     * and repeated over seeds, as is the baseline: each such row is the mean of its runs, with their spread.
     */
    @Test
    void routersAndTheBaselineRepeatOverSeedsWithBudgetsInEpochs() {
        JsonNode job = run("""
                {"type": "merge", "spec": {"base_checkpoint_id": "%s", "expert_ids": ["%s", "%s"],
                  "adaptation_dataset_id": "%s", "eval_dataset_ids": ["%s"],
                  "evaluation": {"split": "train", "context": 16, "max_windows": 8},
                  "methods": [{"method": "layer_routing"}],
                  "router_training": {"epochs": 1, "patience": 1, "seeds": 2, "batch_size": 4, "context": 16,
                                      "eval_every": 1, "eval_windows": 4},
                  "baseline": {"finetune": {"training": {"steps": 4, "batch_size": 4, "context": 16}, "seeds": 2}}}}"""
                .formatted(base, expertA, expertB, mixed, textA));
        long trainTokens = json(get("/datasets/" + mixed)).path("train").path("tokens").asLong();
        int epochSteps = (int) Math.ceil((double) ((trainTokens - 1) / 16) / 4);
        JsonNode plan = JSON.readTree(jdbc.queryForObject("select plan::text from job where id = ?::uuid", String.class,
                job.path("id").asText()));
        assertThat(plan.path("router_training").path("steps").asInt()).isEqualTo(epochSteps);

        JsonNode routed = job.path("result").path("outputs").get(0);
        assertThat(routed.path("routed_model_ids")).hasSize(2);
        assertThat(routed.path("routed_model_ids").get(0).asText()).isNotEqualTo(routed.path("routed_model_ids").get(1).asText());
        assertThat(routed.path("router_fits")).hasSize(2);
        for (JsonNode fit : routed.path("router_fits")) {
            // Patience 1: the fitting stops at the first validation that does not improve, or runs to the end.
            assertThat(fit.path("steps").asInt()).isBetween(1, epochSteps);
            assertThat(fit.path("stopped_early").asBoolean()).isEqualTo(fit.path("steps").asInt() < epochSteps);
        }
        JsonNode baseline = job.path("result").path("outputs").get(1);
        assertThat(baseline.path("checkpoint_ids")).hasSize(2);
        for (JsonNode row : job.path("result").path("rows")) {
            if (!List.of("layer_routing", "finetune_baseline").contains(row.path("method").asText())) {
                continue;
            }
            JsonNode seeds = row.path("seeds");
            assertThat(seeds.path("n").asInt()).as(row.toString()).isEqualTo(2);
            double mean = (seeds.path("losses").get(0).asDouble() + seeds.path("losses").get(1).asDouble()) / 2;
            assertThat(row.path("loss").asDouble()).isCloseTo(mean, within(1e-9));
            assertThat(seeds.path("sd").asDouble()).isCloseTo(Math.abs(seeds.path("losses").get(0).asDouble()
                    - seeds.path("losses").get(1).asDouble()) / Math.sqrt(2), within(1e-9));
        }
        // Each baseline run marks its own best checkpoint.
        assertThat(jdbc.queryForObject("select count(*) from checkpoint where producing_job_id = ?::uuid and best",
                Integer.class, job.path("id").asText())).isEqualTo(2);
    }

    /**
     * DataMix beside the Table 1 baseline: the base trained on a mixture of the specialists' datasets (the MLPs at
     * lr 8e-4 by default, as the paper's code trains it), evaluated on the same windows, and every row paired
     * against it.
     */
    @Test
    void aDataMixBaselineIsTrainedOnTheMixtureAndEveryRowIsPairedAgainstIt() {
        JsonNode job = run("""
                {"type": "merge", "spec": {"base_checkpoint_id": "%s", "expert_ids": ["%s", "%s"],
                  "adaptation_dataset_id": "%s", %s,
                  "methods": [{"method": "linear", "parameters": {"weight": 1}}],
                  "baseline": {"finetune": {"training": {"steps": 4, "batch_size": 4, "context": 16}},
                               "datamix": {"dataset_ids": ["%s", "%s"], "mixture_weights": [3, 1],
                                           "training": {"steps": 6, "batch_size": 4, "context": 16}}}}}"""
                .formatted(base, expertA, expertB, mixed, evaluation(), textA, textB));
        JsonNode rows = job.path("result").path("rows");
        int datamixRows = 0;
        for (JsonNode row : rows) {
            JsonNode versus = row.path("vs_datamix");
            assertThat(versus.path("label").asText()).as(row.toString()).isEqualTo("datamix baseline");
            if (row.path("method").asText().equals("datamix_baseline")) {
                datamixRows++;
                JsonNode parameters = row.path("parameters");
                assertThat(parameters.path("trainable").asText()).isEqualTo("mlp");
                assertThat(parameters.path("learning_rate").asDouble()).isEqualTo(8e-4);
                assertThat(parameters.path("steps").asInt()).isEqualTo(6);
                assertThat(parameters.path("dataset_ids")).extracting(JsonNode::asText).containsExactly(textA, textB);
                assertThat(parameters.path("mixture_weights")).extracting(JsonNode::asDouble).containsExactly(3.0, 1.0);
                // Against itself, window by window: exactly zero.
                assertThat(versus.path("difference").asDouble()).isEqualTo(0.0);
                assertThat(row.path("vs_baseline").path("label").asText()).isEqualTo("finetune baseline");
            }
        }
        assertThat(datamixRows).isEqualTo(2);
        JsonNode outputs = job.path("result").path("outputs");
        assertThat(outputs.get(outputs.size() - 1).path("method").asText()).isEqualTo("datamix_baseline");
        String datamix = outputs.get(outputs.size() - 1).path("checkpoint_id").asText();
        assertThat(datamix).isNotEqualTo(outputs.get(outputs.size() - 2).path("checkpoint_id").asText());
        assertThat(json(get("/checkpoints/" + datamix)).path("parent_id").asText()).isEqualTo(base);
        List<String> series = new ArrayList<>();
        json(get("/jobs/" + job.path("id").asText() + "/losses")).path("series")
                .forEach(s -> series.add(s.path("name").asText()));
        assertThat(series).contains("baseline/train", "datamix/train");
    }

    @Test
    void aDataMixBaselineNeedsAMixtureItCanDraw() {
        String experts = "\"expert_ids\": [\"" + expertA + "\", \"" + expertB + "\"], " + evaluation();
        String training = "\"training\": {\"steps\": 2}";
        int before = jdbc.queryForObject("select count(*) from job", Integer.class);
        assertRejected("{\"method\": \"linear\", \"baseline\": {}, " + experts + "}", "baseline");
        assertRejected("{\"method\": \"linear\", \"baseline\": {\"datamix\": {\"dataset_ids\": [\"" + textA + "\", \""
                + textB + "\"], \"mixture_weights\": [1], " + training + "}}, " + experts + "}",
                "baseline.datamix.mixture_weights");
        assertRejected("{\"method\": \"linear\", \"baseline\": {\"datamix\": {\"dataset_ids\": [\"" + textA + "\", \""
                + textB + "\"], \"mixture_weights\": [1, -2], " + training + "}}, " + experts + "}",
                "baseline.datamix.mixture_weights");
        assertRejected("{\"method\": \"linear\", \"baseline\": {\"datamix\": {\"dataset_ids\": [\"" + textA + "\"], "
                + training + "}}, " + experts + "}", "baseline.datamix.dataset_ids");
        assertRejected("{\"method\": \"linear\", \"baseline\": {\"datamix\": {\"dataset_ids\": [\"" + textA + "\", \""
                + UUID.randomUUID() + "\"], " + training + "}}, " + experts + "}", "baseline.datamix.dataset_ids[1]");
        assertThat(jdbc.queryForObject("select count(*) from job", Integer.class)).isEqualTo(before);
    }

    /** The worker runs what was checked at submission: the plan stored with the job, every default resolved. */
    @Test
    void theValidatedPlanIsStoredWithTheJobAndTopKMayReachSpanTimesExperts() {
        HttpResponse<String> created = postJson("/jobs", """
                {"type": "merge", "spec": {"expert_ids": ["%s", "%s"], "adaptation_dataset_id": "%s", %s,
                  "methods": [{"method": "multi_layer_routing", "parameters": {"span": 2, "top_k": 3}}]}}"""
                .formatted(expertA, expertB, mixed, evaluation()));
        assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
        String id = json(created).path("id").asText();
        JsonNode plan = JSON.readTree(jdbc.queryForObject("select plan::text from job where id = ?::uuid", String.class, id));
        assertThat(plan.path("expert_ids")).extracting(JsonNode::asText).containsExactly(expertA, expertB);
        assertThat(plan.path("methods").get(0).path("feature_space").asBoolean()).isTrue();
        // Router fitting's defaults, resolved: 200 steps at lr 5e-3, every tenth validated, context within n_positions.
        assertThat(plan.path("router_training").path("steps").asInt()).isEqualTo(200);
        assertThat(plan.path("router_training").path("learningRate").asDouble()).isEqualTo(5e-3);
        assertThat(plan.path("router_training").path("evalEvery").asInt()).isEqualTo(20);
        assertThat(plan.path("router_training").path("context").asInt()).isEqualTo(32);
        assertThat(plan.path("evaluation").path("max_windows").asInt()).isEqualTo(8);
        HttpResponse<String> cancel = send(HttpRequest.newBuilder(uri("/jobs/" + id + "/cancel"))
                .POST(HttpRequest.BodyPublishers.noBody()));
        // Accepted at submission and run from the plan (or cancelled first: the job need not finish here).
        assertThat(cancel.statusCode()).isIn(202, 409);
        assertThat(awaitJob(id, TIMEOUT, "cancelled", "succeeded", "failed").path("status").asText())
                .isIn("cancelled", "succeeded");
    }

    private JsonNode assertRejected(String spec, String field) {
        HttpResponse<String> response = postJson("/jobs", "{\"type\": \"merge\", \"spec\": " + spec + "}");
        assertThat(response.statusCode()).as(response.body()).isEqualTo(422);
        JsonNode problem = json(response);
        List<String> fields = new ArrayList<>();
        problem.path("errors").forEach(e -> fields.add(e.path("field").asText()));
        assertThat(fields).as(response.body()).contains("spec." + field);
        return problem;
    }
}
