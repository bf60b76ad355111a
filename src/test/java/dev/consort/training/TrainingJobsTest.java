package dev.consort.training;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.LongStream;

import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import dev.consort.support.Multipart;
import tools.jackson.databind.JsonNode;

/**
 * Pretrain, finetune and evaluate jobs end to end over HTTP on a tiny GPT-2 (2 layers, width 32) with
 * the real vocabulary, run by the application's own worker.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class TrainingJobsTest extends TrainingJobsSupport {

    private static final Duration TIMEOUT = Duration.ofMinutes(3);
    private static String dataset;
    private static String pretrained;
    private static String finetuned;

    @Test
    @Order(1)
    void pretrainStartsAtLnVocabLearnsAndRegistersCheckpoints() {
        dataset = uploadRepeatedTextDataset(40);
        JsonNode job = submit("""
                {"type": "pretrain", "name": "tiny", "spec": {
                  "config": {"n_layer": 2, "n_embd": 32, "n_head": 2, "n_positions": 32},
                  "dataset_id": "%s",
                  "training": {"steps": 30, "batch_size": 4, "context": 16, "learning_rate": 0.003,
                               "eval_every": 10, "eval_windows": 4, "checkpoint_every": 15}}}""".formatted(dataset));
        String id = job.path("id").asText();
        JsonNode done = awaitJob(id, TIMEOUT, "succeeded", "failed");
        assertThat(done.path("status").asText()).as(done.toString()).isEqualTo("succeeded");

        JsonNode curves = json(get("/jobs/" + id + "/losses"));
        List<Long> steps = new ArrayList<>();
        List<Double> losses = new ArrayList<>();
        List<Long> validationSteps = new ArrayList<>();
        for (JsonNode series : curves.path("series")) {
            for (JsonNode point : series.path("points")) {
                if ("train".equals(series.path("name").asText())) {
                    steps.add(point.path("step").asLong());
                    losses.add(point.path("value").asDouble());
                    assertThat(point.path("tokens").asLong()).isEqualTo(point.path("step").asLong() * 4 * 16);
                } else {
                    validationSteps.add(point.path("step").asLong());
                }
            }
        }
        assertThat(steps).containsExactlyElementsOf(LongStream.rangeClosed(1, 30).boxed().toList());
        // Random initialisation (std 0.02) predicts nearly uniformly over the vocabulary: ln 50257 ≈ 10.82.
        assertThat(losses.get(0)).isCloseTo(Math.log(50257), within(0.15));
        assertThat(losses.get(29)).isLessThan(losses.get(0) - 3);
        assertThat(validationSteps).containsExactly(10L, 20L, 30L);

        JsonNode progress = done.path("progress");
        assertThat(progress.path("step").asInt()).isEqualTo(30);
        assertThat(progress.path("tokens_per_second").asDouble()).isPositive();
        assertThat(progress.has("eta_seconds")).isTrue();

        JsonNode result = done.path("result");
        assertThat(result.path("checkpoints")).hasSize(2);
        assertThat(result.path("checkpoints").get(0).path("step").asLong()).isEqualTo(15);
        assertThat(result.path("checkpoints").get(1).path("step").asLong()).isEqualTo(30);
        pretrained = result.path("checkpoints").get(1).path("checkpoint_id").asText();
        JsonNode checkpoint = json(get("/checkpoints/" + pretrained));
        assertThat(checkpoint.path("producing_job_id").asText()).isEqualTo(id);
        assertThat(checkpoint.path("step").asLong()).isEqualTo(30);
        assertThat(checkpoint.path("config").path("n_embd").asInt()).isEqualTo(32);
        // The step-15 checkpoint has no validation at its step (eval every 10), so only step 30 can be best.
        assertThat(result.path("best_checkpoint_id").asText()).isEqualTo(pretrained);
        assertThat(checkpoint.path("best").asBoolean()).isTrue();

        List<String> kinds = new ArrayList<>();
        json(get("/jobs/" + id + "/events?limit=500")).path("items").forEach(e -> kinds.add(e.path("kind").asText()));
        assertThat(kinds).filteredOn("checkpoint"::equals).hasSize(2);
        String config = new String(download("/checkpoints/" + pretrained + "/config.json"));
        assertThat(config).contains("\"GPT2LMHeadModel\"").contains("\"gelu_new\"");
    }

    @Test
    @Order(2)
    void mlpOnlyFinetuningLowersTheLossAndLeavesEveryOtherTensorBitIdentical() throws Exception {
        JsonNode job = submit("""
                {"type": "finetune", "spec": {"base_checkpoint_id": "%s", "dataset_id": "%s",
                  "training": {"steps": 12, "batch_size": 4, "context": 16, "learning_rate": 0.003,
                               "eval_every": 6, "eval_windows": 4}}}""".formatted(pretrained, dataset));
        String id = job.path("id").asText();
        JsonNode done = awaitJob(id, TIMEOUT, "succeeded", "failed");
        assertThat(done.path("status").asText()).as(done.toString()).isEqualTo("succeeded");
        assertThat(done.path("spec").path("trainable").isMissingNode() || done.path("spec").path("trainable").isNull()).isTrue();

        JsonNode validation = json(get("/jobs/" + id + "/losses?series=validation")).path("series").get(0).path("points");
        assertThat(validation.get(validation.size() - 1).path("value").asDouble())
                .isLessThan(validation.get(0).path("value").asDouble());

        finetuned = done.path("result").path("best_checkpoint_id").asText();
        assertThat(json(get("/checkpoints/" + finetuned)).path("parent_id").asText()).isEqualTo(pretrained);
        Map<String, byte[]> before = tensors(download("/checkpoints/" + pretrained + "/model.safetensors"));
        Map<String, byte[]> after = tensors(download("/checkpoints/" + finetuned + "/model.safetensors"));
        assertThat(after.keySet()).isEqualTo(before.keySet());
        int mlpChanged = 0;
        for (String name : before.keySet()) {
            if (name.contains(".mlp.")) {
                mlpChanged += java.util.Arrays.equals(before.get(name), after.get(name)) ? 0 : 1;
            } else {
                assertThat(after.get(name)).as(name).isEqualTo(before.get(name));
            }
        }
        assertThat(mlpChanged).isEqualTo(8); // c_fc and c_proj, weight and bias, in both layers
        // The finetuned checkpoint keeps its base's config.json, byte for byte.
        assertThat(download("/checkpoints/" + finetuned + "/config.json"))
                .isEqualTo(download("/checkpoints/" + pretrained + "/config.json"));
    }

    /** DataMix: one finetune on a mixture of datasets, its windows drawn by weight, validated on both. */
    @Test
    @Order(2)
    void aFinetuneCanTrainOnAMixtureOfDatasets() {
        String other = json(post("/datasets", new Multipart().file("file", "other.txt",
                "Another kind of text, about rivers and the sea.\n\n".repeat(40).getBytes(StandardCharsets.UTF_8))
                .field("val_fraction", "0.25"))).path("id").asText();
        JsonNode job = submit("""
                {"type": "finetune", "spec": {"base_checkpoint_id": "%s", "dataset_ids": ["%s", "%s"],
                  "mixture_weights": [2, 1],
                  "training": {"steps": 6, "batch_size": 4, "context": 16, "learning_rate": 0.003,
                               "eval_every": 3, "eval_windows": 2}}}""".formatted(pretrained, dataset, other));
        JsonNode done = awaitJob(job.path("id").asText(), TIMEOUT, "succeeded", "failed");
        assertThat(done.path("status").asText()).as(done.toString()).isEqualTo("succeeded");
        assertThat(done.path("result").path("steps").asInt()).isEqualTo(6);
        // One validation series, over both datasets' held-out windows.
        assertThat(json(get("/jobs/" + job.path("id").asText() + "/losses?series=validation")).path("series")).hasSize(1);

        HttpResponse<String> both = postJson("/jobs", """
                {"type": "finetune", "spec": {"base_checkpoint_id": "%s", "dataset_id": "%s", "dataset_ids": ["%s", "%s"],
                  "training": {"steps": 2}}}""".formatted(pretrained, dataset, dataset, other));
        assertThat(both.statusCode()).isEqualTo(422);
        assertThat(both.body()).contains("spec.dataset_ids");
        HttpResponse<String> weights = postJson("/jobs", """
                {"type": "finetune", "spec": {"base_checkpoint_id": "%s", "dataset_ids": ["%s", "%s"],
                  "mixture_weights": [1], "training": {"steps": 2}}}""".formatted(pretrained, dataset, other));
        assertThat(weights.statusCode()).isEqualTo(422);
        assertThat(weights.body()).contains("spec.mixture_weights");
    }

    @Test
    @Order(3)
    void aCheckpointSavedByAJobReuploadsAndEvaluatesToTheSameLoss() {
        byte[] weights = download("/checkpoints/" + finetuned + "/model.safetensors");
        byte[] config = download("/checkpoints/" + finetuned + "/config.json");
        var upload = post("/checkpoints", new Multipart().file("config", "config.json", config)
                .file("weights", "model.safetensors", weights).field("name", "round-trip"));
        assertThat(upload.statusCode()).as(upload.body()).isEqualTo(201);
        String reuploaded = json(upload).path("id").asText();

        JsonNode job = submit("""
                {"type": "evaluate", "spec": {"checkpoint_ids": ["%s", "%s", "%s"], "dataset_ids": ["%s"],
                  "context": 16, "max_windows": 8}}""".formatted(finetuned, reuploaded, pretrained, dataset));
        JsonNode done = awaitJob(job.path("id").asText(), TIMEOUT, "succeeded", "failed");
        assertThat(done.path("status").asText()).as(done.toString()).isEqualTo("succeeded");
        JsonNode rows = done.path("result").path("rows");
        assertThat(rows).hasSize(3);
        assertThat(rows.get(0).path("windows").asInt()).isPositive();
        assertThat(rows.get(0).path("tokens").asLong()).isEqualTo(rows.get(0).path("windows").asLong() * 16);
        assertThat(rows.get(1).path("loss").asDouble()).isEqualTo(rows.get(0).path("loss").asDouble());
        assertThat(rows.get(2).path("loss").asDouble()).isNotEqualTo(rows.get(0).path("loss").asDouble());
        JsonNode table = json(get("/jobs/" + job.path("id").asText() + "/results"));
        assertThat(table.path("type").asText()).isEqualTo("evaluate");
        assertThat(table.path("rows")).isEqualTo(rows);
    }

    @Test
    @Order(4)
    void evaluatingOnTooFewTokensFailsWithAClearError() {
        var tiny = post("/datasets", new Multipart().file("file", "tiny.txt", "Hi.".getBytes())
                .field("val_fraction", "0"));
        String tinyId = json(tiny).path("id").asText();
        JsonNode job = submit("""
                {"type": "evaluate", "spec": {"checkpoint_ids": ["%s"], "dataset_ids": ["%s"], "split": "train",
                  "context": 16}}""".formatted(pretrained, tinyId));
        JsonNode done = awaitJob(job.path("id").asText(), TIMEOUT, "succeeded", "failed");
        assertThat(done.path("status").asText()).isEqualTo("failed");
        assertThat(done.path("error").path("code").asText()).isEqualTo("dataset_too_small");
        assertThat(done.path("error").path("message").asText()).contains(tinyId);
    }

    @Test
    @Order(5)
    void evaluatingBeyondTheModelsPositionsIsRefusedAtSubmission() {
        HttpResponse<String> response = postJson("/jobs", """
                {"type": "evaluate", "spec": {"checkpoint_ids": ["%s"], "dataset_ids": ["%s"], "context": 4096}}"""
                .formatted(pretrained, dataset));
        assertThat(response.statusCode()).as(response.body()).isEqualTo(422);
        assertThat(json(response).path("errors").get(0).path("field").asText()).isEqualTo("spec.context");
        assertThat(json(response).path("errors").get(0).path("message").asText()).contains("n_positions");
    }

    /**
     * Jobs too big for a worker are refused at submission, naming the budget and giving the estimate: the issue's
     * batch 4096 × context 65536, and a million checkpoints; nothing is stored.
     */
    @Test
    @Order(5)
    void jobsOverTheirBudgetsAreRefusedAtSubmissionWithTheEstimate() {
        int before = jdbc.queryForObject("select count(*) from job", Integer.class);
        HttpResponse<String> huge = postJson("/jobs", """
                {"type": "pretrain", "spec": {"config": {"n_layer": 2, "n_embd": 16, "n_head": 2, "n_positions": 65536},
                  "dataset_id": "%s", "training": {"steps": 1, "batch_size": 4096, "context": 65536}}}"""
                .formatted(dataset));
        assertThat(huge.statusCode()).as(huge.body()).isEqualTo(422);
        JsonNode error = json(huge).path("errors").get(0);
        assertThat(error.path("field").asText()).isEqualTo("spec.training.batch_size");
        // Attention scores and probabilities, 2 floats × 4096 windows × 2 heads × 65536² × 2 layers: 512 TiB; the
        // two int[4096 × 65536] token arrays: 2 GiB.
        assertThat(error.path("message").asText()).contains("memory budget of 16.0 GiB")
                .contains("consort.budgets.memory").contains("attention 512.0 TiB").contains("token arrays 2.0 GiB");

        HttpResponse<String> checkpoints = postJson("/jobs", """
                {"type": "finetune", "spec": {"base_checkpoint_id": "%s", "dataset_id": "%s",
                  "training": {"steps": 1000000, "checkpoint_every": 1}}}""".formatted(pretrained, dataset));
        assertThat(checkpoints.statusCode()).as(checkpoints.body()).isEqualTo(422);
        error = json(checkpoints).path("errors").get(0);
        assertThat(error.path("field").asText()).isEqualTo("spec.training.checkpoint_every");
        assertThat(error.path("message").asText()).contains("1000000 checkpoints").contains("consort.budgets.checkpoints");

        assertThat(jdbc.queryForObject("select count(*) from job", Integer.class)).isEqualTo(before);
    }
}
