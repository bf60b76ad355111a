package dev.consort.job;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import dev.consort.support.ApiTest;
import dev.consort.support.Multipart;
import dev.consort.support.TinyGpt2;
import tools.jackson.databind.JsonNode;

/**
 * CKA, compatibility, sweep and merge jobs whose peak memory is over {@code consort.budgets.memory} (16 GiB) are refused
 * at submission with a 422 naming the field and the estimate (issue 16, item 1). Tiny models with 65,536 positions
 * make it cheap: one window of 65,536 tokens holds 2 × 2 heads × 65,536² floats of attention scores, 64 GiB.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class BudgetsAtSubmissionTest extends ApiTest {

    private String a;
    private String b;
    private String dataset;

    @BeforeAll
    void longModels() {
        a = upload(11);
        b = upload(12);
        HttpResponse<String> created = post("/datasets", new Multipart().file("file", "text.txt",
                "a few words of text, and then some more words, so that a window or two of sixteen tokens fit\n\n"
                        .repeat(4).getBytes(StandardCharsets.UTF_8)));
        assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
        dataset = json(created).path("id").asText();
    }

    private String upload(long seed) {
        TinyGpt2 model = new TinyGpt2().vocab(50257).seed(seed);
        model.nPositions = 65536;
        HttpResponse<String> created = post("/checkpoints", new Multipart()
                .file("config", "config.json", model.config()).file("weights", "model.safetensors", model.weights()));
        assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
        return json(created).path("id").asText();
    }

    private JsonNode refused(String body, String field) {
        int before = jdbc.queryForObject("select count(*) from job", Integer.class);
        HttpResponse<String> response = postJson("/jobs", body);
        assertThat(response.statusCode()).as(response.body()).isEqualTo(422);
        JsonNode error = json(response).path("errors").get(0);
        assertThat(error.path("field").asText()).isEqualTo(field);
        assertThat(error.path("message").asText()).contains("consort.budgets.memory").contains("attention");
        assertThat(jdbc.queryForObject("select count(*) from job", Integer.class)).isEqualTo(before);
        return error;
    }

    @Test
    void aCkaJobOverTheMemoryBudgetIsRefused() {
        refused("""
                {"type": "cka", "spec": {"model_a_id": "%s", "model_b_id": "%s", "dataset_id": "%s",
                  "context": 65536, "batch_size": 1}}""".formatted(a, b, dataset), "spec.batch_size");
    }

    @Test
    void aCompatibilityProbeOverTheMemoryBudgetIsRefused() {
        refused("""
                {"type": "compatibility", "spec": {"expert_ids": ["%s", "%s"], "probe_dataset_id": "%s",
                  "context": 65536}}""".formatted(a, b, dataset), "spec.context");
    }

    @Test
    void routerFittingOverTheMemoryBudgetIsRefused() {
        JsonNode error = refused("""
                {"type": "merge", "spec": {"expert_ids": ["%s", "%s"], "method": "layer_routing",
                  "adaptation_dataset_id": "%s", "eval_dataset_ids": ["%s"],
                  "router_training": {"batch_size": 1, "context": 65536}}}""".formatted(a, b, dataset, dataset),
                "spec.router_training.batch_size");
        // Both experts' attention: 2 members × 2 layers × 2 × 2 heads × 65,536² floats = 256 GiB.
        assertThat(error.path("message").asText()).contains("attention 256.0 GiB");
    }

    /** A finetune job of one step of 16 tokens from {@code base}: cheap, and with a checkpoint at step 1. */
    private String finetune(String base) {
        HttpResponse<String> created = postJson("/jobs", """
                {"type": "finetune", "spec": {"base_checkpoint_id": "%s", "dataset_id": "%s",
                  "training": {"steps": 1, "batch_size": 1, "context": 16, "checkpoint_every": 1}}}"""
                .formatted(base, dataset));
        assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
        String id = json(created).path("id").asText();
        awaitSuccess(id, java.time.Duration.ofMinutes(3));
        return id;
    }

    @Test
    void aSweepOverTheMemoryBudgetIsRefused() {
        String jobA = finetune(a);
        String jobB = finetune(a);
        refused("""
                {"type": "sweep", "spec": {"finetune_job_a_id": "%s", "finetune_job_b_id": "%s",
                  "adaptation_dataset_id": "%s", "reference_dataset_id": "%s",
                  "evaluation": {"context": 65536, "batch_size": 1}}}""".formatted(jobA, jobB, dataset, dataset),
                "spec.evaluation.batch_size");
    }
}
