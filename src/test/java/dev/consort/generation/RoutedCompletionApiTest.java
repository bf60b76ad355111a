package dev.consort.generation;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

import ai.djl.Device;
import dev.consort.dataset.Gpt2Tokenizer;
import dev.consort.engine.Gpt2Config;
import dev.consort.engine.Gpt2Model;
import dev.consort.merge.features.RoutedModel;
import dev.consort.merge.features.RoutedModelDescription;
import dev.consort.support.ApiTest;
import dev.consort.support.FullForwardGreedy;
import dev.consort.support.Multipart;
import dev.consort.support.TinyGpt2;
import tools.jackson.databind.JsonNode;

/**
 * {@code POST /routed-models/{id}/completions}: a routed model made by a merge job (multi-layer routing over two
 * fine-tuned experts and the base) generates through its routers, with a KV cache, exactly the greedy continuation
 * that full forward passes of the same routed model, rebuilt here from its downloads, give. The same routed model
 * also downloads as one folder ({@code GET /routed-models/{id}/archive}).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class RoutedCompletionApiTest extends ApiTest {

    private static final Duration TIMEOUT = Duration.ofMinutes(5);

    private String base;
    private List<String> experts;
    private String routed;

    @TempDir
    Path dir;

    @BeforeAll
    void routedModel() {
        TinyGpt2 tiny = new TinyGpt2().vocab(50257).seed(21);
        tiny.nEmbd = 16;
        tiny.nPositions = 32;
        base = json(post("/checkpoints", Multipart.checkpoint(tiny))).path("id").asText();
        String a = "Seven times eight is fifty six. Nine plus four is thirteen. ";
        String b = "def add(x, y): return x + y. print(add(2, 3)). ";
        experts = List.of(quickFinetune(base, wholeTextDataset("a.txt", a.repeat(30)), TIMEOUT),
                quickFinetune(base, wholeTextDataset("b.txt", b.repeat(30)), TIMEOUT));
        String mixed = wholeTextDataset("mixed.txt", (a + b).repeat(20));
        JsonNode job = runJob("""
                {"type": "merge", "spec": {"base_checkpoint_id": "%s", "expert_ids": ["%s", "%s"],
                  "adaptation_dataset_id": "%s", "eval_dataset_ids": ["%s"],
                  "evaluation": {"split": "train", "context": 16, "max_windows": 4},
                  "methods": [{"method": "multi_layer_routing",
                               "parameters": {"span": 2, "include_base": true, "router": "mlp"}}],
                  "router_training": {"steps": 10, "batch_size": 4, "context": 16, "eval_every": 5, "eval_windows": 4}}}"""
                .formatted(base, experts.get(0), experts.get(1), mixed, mixed), TIMEOUT);
        routed = job.path("result").path("outputs").get(0).path("routed_model_id").asText();
        assertThat(routed).isNotBlank();
    }

    @Test
    void greedyDecodingThroughTheRoutersIsTheArgmaxOfTheRoutedModelsFullForwardPass() throws Exception {
        HttpResponse<String> response = postJson("/routed-models/" + routed + "/completions",
                "{\"prompt\": \"Seven times\", \"max_tokens\": 10, \"temperature\": 0}");

        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        assertThat(json(response).path("model").asText()).isEqualTo(routed);
        JsonNode choice = json(response).path("choices").get(0);
        int[] generated = new int[choice.path("token_ids").size()];
        for (int i = 0; i < generated.length; i++) {
            generated[i] = choice.path("token_ids").get(i).asInt();
        }
        assertThat(generated.length).isPositive();
        assertThat(generated).isEqualTo(argmaxContinuation(new Gpt2Tokenizer().encode("Seven times"), generated.length));
    }

    /** The routed model rebuilt from its downloads, continued by full forward passes without a cache. */
    private int[] argmaxContinuation(int[] prompt, int length) throws Exception {
        Path description = download("/routed-models/" + routed + "/description.json", "routed_model.json");
        Path routers = download("/routed-models/" + routed + "/router.safetensors", "router.safetensors");
        List<Gpt2Model> loaded = new ArrayList<>();
        try {
            Gpt2Model baseModel = load(base, loaded);
            List<Gpt2Model> expertModels = new ArrayList<>();
            for (String expert : experts) {
                expertModels.add(load(expert, loaded));
            }
            try (RoutedModel model = RoutedModel.load(RoutedModelDescription.read(description), routers, baseModel,
                    expertModels)) {
                return FullForwardGreedy.continuation(model.shared(), model::forward, prompt, length);
            }
        } finally {
            loaded.forEach(Gpt2Model::close);
        }
    }

    private Gpt2Model load(String checkpoint, List<Gpt2Model> loaded) throws Exception {
        Path weights = download("/checkpoints/" + checkpoint + "/model.safetensors", checkpoint + ".safetensors");
        Gpt2Config config = Gpt2Config.parse(getBytes("/checkpoints/" + checkpoint + "/config.json").body());
        Gpt2Model model = Gpt2Model.load(weights, config, Device.cpu());
        loaded.add(model);
        return model;
    }

    private Path download(String path, String name) throws Exception {
        HttpResponse<byte[]> response = getBytes(path);
        assertThat(response.statusCode()).as(path).isEqualTo(200);
        return Files.write(dir.resolve(name), response.body());
    }

    /** The same routed model downloaded as one folder (GET /routed-models/{id}/archive): every part, byte for byte. */
    @Test
    void itsFolderHoldsTheDescriptionTheRoutersAndEveryMemberAsAHuggingFaceFolder() throws Exception {
        HttpResponse<byte[]> response = getBytes("/routed-models/" + routed + "/archive");
        assertThat(response.statusCode()).isEqualTo(200);
        java.util.Map<String, byte[]> files = new java.util.LinkedHashMap<>();
        try (var tar = new org.apache.commons.compress.archivers.tar.TarArchiveInputStream(
                new org.apache.commons.compress.compressors.gzip.GzipCompressorInputStream(
                        new java.io.ByteArrayInputStream(response.body())))) {
            for (var entry = tar.getNextEntry(); entry != null; entry = tar.getNextEntry()) {
                files.put(entry.getName().substring(entry.getName().indexOf('/') + 1), tar.readAllBytes());
            }
        }
        assertThat(files).containsKeys("README.md", "routed_model.json", "router.safetensors", "base/config.json",
                "base/model.safetensors", "base/tokenizer.json", "experts/0/model.safetensors",
                "experts/1/model.safetensors", "experts/1/README.md");
        assertThat(files.get("router.safetensors")).isEqualTo(getBytes("/routed-models/" + routed + "/router.safetensors").body());
        assertThat(files.get("base/model.safetensors")).isEqualTo(getBytes("/checkpoints/" + base + "/model.safetensors").body());
        for (int i = 0; i < 2; i++) {
            assertThat(files.get("experts/" + i + "/model.safetensors"))
                    .isEqualTo(getBytes("/checkpoints/" + experts.get(i) + "/model.safetensors").body());
        }
        assertThat(JSON.readTree(files.get("routed_model.json")).path("experts").get(1).asText()).isEqualTo(experts.get(1));
        String readme = new String(files.get("README.md"), java.nio.charset.StandardCharsets.UTF_8);
        assertThat(readme).contains("transformers cannot load the mixture").contains("multi_layer_routing");
        @SuppressWarnings("unchecked")
        java.util.Map<String, Object> front = (java.util.Map<String, Object>) new org.yaml.snakeyaml.Yaml()
                .load(readme.substring(4, readme.indexOf("\n---\n", 4)));
        assertThat((List<Object>) front.get("tags")).contains("merge", "multi_layer_routing");
        assertThat(get("/routed-models/" + UUID.randomUUID() + "/archive").statusCode()).isEqualTo(404);
    }

    @Test
    void anUnknownRoutedModelIs404() {
        HttpResponse<String> response = postJson("/routed-models/" + UUID.randomUUID() + "/completions",
                "{\"prompt\": \"Hi\"}");
        assertThat(response.statusCode()).as(response.body()).isEqualTo(404);
    }
}
