package dev.consort.archive;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;

import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.compressors.gzip.GzipCompressorInputStream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.yaml.snakeyaml.Yaml;

import dev.consort.dataset.Gpt2Tokenizer;
import dev.consort.support.ApiTest;
import dev.consort.support.Multipart;
import dev.consort.support.TinyGpt2;
import tools.jackson.databind.JsonNode;

/**
 * {@code GET /checkpoints/{id}/archive}: the folder's files parse as transformers expects them, its tokenizer is the
 * one the service tokenizes with (every one of the 50,257 tokens decodes to the same bytes), its model card's front
 * matter and mergekit recipe are valid YAML, and uploading the folder's config and weights gives back the same
 * weights, bit for bit.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ModelFolderTest extends ApiTest {

    private static final Duration TIMEOUT = Duration.ofMinutes(5);
    private static final List<String> FILES = List.of("config.json", "model.safetensors", "vocab.json", "merges.txt",
            "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "generation_config.json",
            "README.md", "TOKENIZER-NOTICE.md");

    private String base;
    private String specialist;
    private String merged;
    private String mathData;

    @BeforeAll
    void specialistsAndAMerge() {
        TinyGpt2 tiny = new TinyGpt2().vocab(50257).seed(31);
        tiny.nEmbd = 16;
        tiny.nPositions = 32;
        HttpResponse<String> uploaded = post("/checkpoints", Multipart.checkpoint(tiny).field("name", "card-base"));
        assertThat(uploaded.statusCode()).as(uploaded.body()).isEqualTo(201);
        base = json(uploaded).path("id").asText();
        mathData = wholeTextDataset("card-math.txt", "Seven times eight is fifty six. ".repeat(40));
        String codeData = wholeTextDataset("card-code.txt", "def add(x, y): return x + y. ".repeat(40));
        specialist = quickFinetune(base, mathData, TIMEOUT);
        String other = quickFinetune(base, codeData, TIMEOUT);
        JsonNode merge = runJob("""
                {"type": "merge", "spec": {"base_checkpoint_id": "%s", "expert_ids": ["%s", "%s"],
                  "eval_dataset_ids": ["%s"], "evaluation": {"split": "train", "context": 16, "max_windows": 4},
                  "method": "linear", "parameters": {"weight": 0.5}}}""".formatted(base, specialist, other, mathData),
                TIMEOUT);
        merged = merge.path("result").path("outputs").get(0).path("checkpoint_id").asText();
    }

    private Map<String, byte[]> tarGz(String checkpoint) throws IOException {
        HttpResponse<byte[]> response = getBytes("/checkpoints/" + checkpoint + "/archive");
        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.headers().firstValue("Content-Type")).hasValue("application/gzip");
        Map<String, byte[]> files = new LinkedHashMap<>();
        try (TarArchiveInputStream tar = new TarArchiveInputStream(
                new GzipCompressorInputStream(new ByteArrayInputStream(response.body())))) {
            for (TarArchiveEntry entry; (entry = tar.getNextEntry()) != null; ) {
                files.put(entry.getName(), tar.readAllBytes());
            }
        }
        return files;
    }

    private Map<String, byte[]> zip(String checkpoint) throws Exception {
        HttpResponse<byte[]> response = HTTP.send(HttpRequest.newBuilder(uri("/checkpoints/" + checkpoint + "/archive"))
                .header("Accept", "application/zip").GET().build(), HttpResponse.BodyHandlers.ofByteArray());
        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.headers().firstValue("Content-Type")).hasValue("application/zip");
        Map<String, byte[]> files = new LinkedHashMap<>();
        try (ZipInputStream zip = new ZipInputStream(new ByteArrayInputStream(response.body()))) {
            for (ZipEntry entry; (entry = zip.getNextEntry()) != null; ) {
                files.put(entry.getName(), zip.readAllBytes());
            }
        }
        return files;
    }

    /** The files under the archive's one directory, by their names in it. */
    private static Map<String, byte[]> inFolder(Map<String, byte[]> archive) {
        String folder = archive.keySet().iterator().next().split("/")[0];
        Map<String, byte[]> files = new LinkedHashMap<>();
        archive.forEach((name, bytes) -> {
            assertThat(name).startsWith(folder + "/");
            files.put(name.substring(folder.length() + 1), bytes);
        });
        return files;
    }

    private static String text(byte[] bytes) {
        return new String(bytes, StandardCharsets.UTF_8);
    }

    @Test
    @SuppressWarnings("unchecked")
    void aTrainedCheckpointsFolderHoldsWhatTransformersLoadsAndUploadsBackBitForBit() throws Exception {
        Map<String, byte[]> files = inFolder(tarGz(specialist));
        assertThat(files.keySet()).containsExactlyElementsOf(FILES);

        JsonNode config = JSON.readTree(files.get("config.json"));
        assertThat(config.path("architectures").get(0).asText()).isEqualTo("GPT2LMHeadModel");
        assertThat(config.path("model_type").asText()).isEqualTo("gpt2");
        assertThat(config.path("n_embd").asInt()).isEqualTo(16);
        assertThat(config.path("n_positions").asInt()).isEqualTo(32);
        assertThat(config.path("vocab_size").asInt()).isEqualTo(50257);
        assertThat(config.path("activation_function").asText()).isEqualTo("gelu_new");
        assertThat(config.path("eos_token_id").asInt()).isEqualTo(50256);
        assertThat(JSON.readTree(files.get("tokenizer_config.json")).path("model_max_length").asInt()).isEqualTo(32);
        assertThat(JSON.readTree(files.get("generation_config.json")).path("eos_token_id").asInt()).isEqualTo(50256);
        assertThat(JSON.readTree(files.get("special_tokens_map.json")).path("eos_token").asText())
                .isEqualTo("<|endoftext|>");

        // The card: valid YAML front matter naming the base, the job type and the dataset; the recipe and lineage.
        String readme = text(files.get("README.md"));
        keep("finetuned-README.md", readme);
        Map<String, Object> front = frontMatter(readme);
        assertThat(front).containsEntry("base_model", "card-base").containsEntry("library_name", "transformers");
        assertThat((List<Object>) front.get("tags")).contains("consort", "gpt2", "finetune");
        assertThat((List<Object>) front.get("datasets")).containsExactly("card-math.txt");
        assertThat(readme).contains("\"learning_rate\"").contains("- from card-base (`" + base + "`), uploaded");

        // Upload the folder's config.json and model.safetensors: the same weights, bit for bit.
        HttpResponse<String> again = post("/checkpoints", new Multipart()
                .file("config", "config.json", files.get("config.json"))
                .file("weights", "model.safetensors", files.get("model.safetensors")));
        assertThat(again.statusCode()).as(again.body()).isEqualTo(201);
        assertThat(json(again).path("sha256").asText()).isEqualTo(json(get("/checkpoints/" + specialist)).path("sha256").asText());
    }

    /** A copy for people to read, in target/model-folders/ (not checked). */
    private static void keep(String name, String text) throws IOException {
        java.nio.file.Path dir = java.nio.file.Path.of("target", "model-folders");
        java.nio.file.Files.createDirectories(dir);
        java.nio.file.Files.writeString(dir.resolve(name), text);
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> frontMatter(String readme) {
        assertThat(readme).startsWith("---\n");
        int end = readme.indexOf("\n---\n", 4);
        assertThat(end).isPositive();
        return (Map<String, Object>) new Yaml().load(readme.substring(4, end));
    }

    @Test
    void theTokenizerIsTheOneTheServiceTokenizesWith() throws Exception {
        Map<String, byte[]> files = inFolder(tarGz(base));
        JsonNode vocab = JSON.readTree(files.get("vocab.json"));
        JsonNode tokenizer = JSON.readTree(files.get("tokenizer.json"));
        assertThat(vocab.size()).isEqualTo(50257);
        assertThat(tokenizer.path("model").path("vocab")).isEqualTo(vocab);
        assertThat(tokenizer.path("truncation").isNull()).as("no saved truncation that would cut documents").isTrue();
        List<String> merges = text(files.get("merges.txt")).lines().skip(1).toList();
        assertThat(merges).hasSize(50_000);
        assertThat(tokenizer.path("model").path("merges").size()).isEqualTo(50_000);

        // GPT-2 writes each byte of a token as a printable character (bytes_to_unicode); decoded back, every token
        // must be the bytes the service's own tokenizer gives that id.
        Map<Integer, Integer> byteOf = printableToByte();
        Gpt2Tokenizer service = new Gpt2Tokenizer();
        List<String> mismatched = new ArrayList<>();
        vocab.properties().forEach(entry -> {
            String token = entry.getKey();
            byte[] bytes = new byte[token.length()];
            for (int i = 0; i < token.length(); i++) {
                bytes[i] = (byte) (int) byteOf.get((int) token.charAt(i));
            }
            if (!java.util.Arrays.equals(bytes, service.bytesOf(entry.getValue().asInt()))) {
                mismatched.add(token);
            }
        });
        assertThat(mismatched).isEmpty();
    }

    /** The inverse of GPT-2's bytes_to_unicode: printable bytes map to themselves, the rest to 256, 257, … */
    private static Map<Integer, Integer> printableToByte() {
        Map<Integer, Integer> map = new LinkedHashMap<>();
        int next = 0;
        for (int b = 0; b < 256; b++) {
            boolean printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            map.put(printable ? b : 256 + next++, b);
        }
        return map;
    }

    @Test
    @SuppressWarnings("unchecked")
    void aWeightSpaceMergesCardHoldsItsMergekitRecipeAndTheLossesItsJobMeasured() throws Exception {
        Map<String, byte[]> files = inFolder(zip(merged));
        assertThat(files.keySet()).containsExactlyElementsOf(FILES);
        String readme = text(files.get("README.md"));
        keep("merged-README.md", readme);
        assertThat((List<Object>) frontMatter(readme).get("tags")).contains("merge", "linear");

        int start = readme.indexOf("```yaml\n");
        assertThat(start).isPositive();
        @SuppressWarnings("unchecked")
        Map<String, Object> recipe = (Map<String, Object>) new Yaml().load(
                readme.substring(start + 8, readme.indexOf("```", start + 8)));
        assertThat(recipe).containsEntry("merge_method", "linear").containsEntry("base_model", base)
                .containsEntry("dtype", "float32");
        assertThat((List<?>) recipe.get("models")).hasSize(2);
        assertThat(recipe.get("parameters")).isEqualTo(Map.of("weight", 0.5));
        assertThat(readme).contains("| card-math.txt | train | 4 |");
    }

    @org.springframework.beans.factory.annotation.Autowired
    dev.consort.storage.ScratchDirectory scratch;

    @Test
    void theWeightsComeInTheDtypeAskedForRoundedToNearestEven() throws Exception {
        HttpResponse<byte[]> response = getBytes("/checkpoints/" + specialist + "/archive?dtype=bfloat16");
        assertThat(response.statusCode()).isEqualTo(200);
        Map<String, byte[]> files = new LinkedHashMap<>();
        try (TarArchiveInputStream tar = new TarArchiveInputStream(
                new GzipCompressorInputStream(new ByteArrayInputStream(response.body())))) {
            for (TarArchiveEntry entry; (entry = tar.getNextEntry()) != null; ) {
                files.put(entry.getName().substring(entry.getName().indexOf('/') + 1), tar.readAllBytes());
            }
        }
        assertThat(JSON.readTree(files.get("config.json")).path("torch_dtype").asText()).isEqualTo("bfloat16");
        java.nio.file.Path dir = java.nio.file.Files.createTempDirectory("folder-dtype");
        java.nio.file.Path converted = java.nio.file.Files.write(dir.resolve("bf16.safetensors"), files.get("model.safetensors"));
        java.nio.file.Path original = java.nio.file.Files.write(dir.resolve("f32.safetensors"),
                getBytes("/checkpoints/" + specialist + "/model.safetensors").body());
        try (var bf16 = dev.consort.safetensors.SafetensorsReader.open(converted);
             var f32 = dev.consort.safetensors.SafetensorsReader.open(original)) {
            assertThat(bf16.tensors().keySet()).isEqualTo(f32.tensors().keySet());
            for (String name : f32.tensors().keySet()) {
                assertThat(bf16.tensors().get(name).dtype()).isEqualTo(dev.consort.safetensors.DType.BF16);
                float[] expected = f32.floats(name);
                for (int i = 0; i < expected.length; i++) {
                    expected[i] = dev.consort.safetensors.HalfPrecision.bf16ToFloat(
                            dev.consort.safetensors.HalfPrecision.floatToBf16(expected[i]));
                }
                assertThat(bf16.floats(name)).as(name).isEqualTo(expected);
            }
        }
        // The converted copy was written to scratch for its size, and removed once sent.
        try (var left = java.nio.file.Files.list(scratch.path())) {
            assertThat(left.map(p -> p.getFileName().toString()).filter(n -> n.startsWith("weights-"))).isEmpty();
        }
        assertThat(get("/checkpoints/" + specialist + "/archive?dtype=int8").statusCode()).isEqualTo(400);
    }

    @Test
    void anUnknownFormatOrCheckpointIsAProblem() {
        HttpResponse<String> format = get("/checkpoints/" + base + "/archive?format=rar");
        assertThat(format.statusCode()).isEqualTo(400);
        assertThat(json(format).path("detail").asText()).contains("format").contains("tar.gz or zip");
        assertThat(get("/checkpoints/" + java.util.UUID.randomUUID() + "/archive").statusCode()).isEqualTo(404);
    }
}
