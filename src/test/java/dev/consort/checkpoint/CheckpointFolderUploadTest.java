package dev.consort.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.consort.safetensors.DType;
import dev.consort.safetensors.SafetensorsReader;
import dev.consort.safetensors.SafetensorsWriter;
import dev.consort.support.ApiTest;
import dev.consort.support.Multipart;
import dev.consort.support.TinyGpt2;
import tools.jackson.databind.JsonNode;

/**
 * {@code POST /checkpoints/archive}: a model folder in one archive, as the service exports it (tar.gz and zip) or as
 * transformers saves a sharded model, comes back as the same weights; folders it cannot take get a 422 saying why.
 */
class CheckpointFolderUploadTest extends ApiTest {

    @TempDir
    Path dir;

    private HttpResponse<String> uploadFolder(String fileName, byte[] archive) {
        return post("/checkpoints/archive", new Multipart().file("archive", fileName, archive));
    }

    private static String checkpointOf(HttpResponse<String> response) {
        assertThat(response.statusCode()).as(response.body()).isEqualTo(201);
        return json(response).path("id").asText();
    }

    @Test
    void aFolderTheServiceExportedUploadsBackAsTheSameWeights() {
        String original = checkpointOf(post("/checkpoints", Multipart.checkpoint(new TinyGpt2().seed(71))));
        String sha = json(get("/checkpoints/" + original)).path("sha256").asText();

        byte[] tarGz = getBytes("/checkpoints/" + original + "/archive").body();
        assertThat(json(get("/checkpoints/" + checkpointOf(uploadFolder("model.tar.gz", tarGz)))).path("sha256").asText())
                .isEqualTo(sha);
        byte[] zip = getBytes("/checkpoints/" + original + "/archive?format=zip").body();
        assertThat(json(get("/checkpoints/" + checkpointOf(uploadFolder("model.zip", zip)))).path("sha256").asText())
                .isEqualTo(sha);
    }

    @Test
    void shardedWeightsAreJoinedTensorForTensor() throws Exception {
        TinyGpt2 model = new TinyGpt2().seed(72);
        Path whole = Files.write(dir.resolve("whole.safetensors"), model.weights());
        Map<String, float[]> expected = new LinkedHashMap<>();
        Map<String, long[]> shapes = new LinkedHashMap<>();
        try (SafetensorsReader reader = SafetensorsReader.open(whole)) {
            for (String name : reader.tensors().keySet()) {
                expected.put(name, reader.floats(name));
                shapes.put(name, reader.tensors().get(name).shape());
            }
        }
        // Two shards, the tensors dealt alternately, and the index that maps each to its shard.
        List<List<SafetensorsWriter.Tensor>> shards = List.of(new ArrayList<>(), new ArrayList<>());
        Map<String, String> weightMap = new LinkedHashMap<>();
        int i = 0;
        for (String name : expected.keySet()) {
            int shard = i++ % 2;
            shards.get(shard).add(new SafetensorsWriter.Tensor(name, shapes.get(name), () -> expected.get(name)));
            weightMap.put(name, shardName(shard));
        }
        Map<String, byte[]> files = new LinkedHashMap<>();
        files.put("gpt2-folder/config.json", model.config());
        for (int s = 0; s < 2; s++) {
            Path shard = dir.resolve(shardName(s));
            SafetensorsWriter.write(shard, shards.get(s), DType.F32);
            files.put("gpt2-folder/" + shardName(s), Files.readAllBytes(shard));
        }
        files.put("gpt2-folder/model.safetensors.index.json", JSON.writeValueAsBytes(
                Map.of("metadata", Map.of("total_size", 0), "weight_map", weightMap)));
        files.put("gpt2-folder/vocab.json", "{}".getBytes(StandardCharsets.UTF_8));

        String id = checkpointOf(uploadFolder("sharded.tar", tar(files)));

        Path stored = Files.write(dir.resolve("stored.safetensors"),
                getBytes("/checkpoints/" + id + "/model.safetensors").body());
        try (SafetensorsReader reader = SafetensorsReader.open(stored)) {
            assertThat(reader.tensors().keySet()).containsExactlyInAnyOrderElementsOf(expected.keySet());
            for (String name : expected.keySet()) {
                assertThat(reader.floats(name)).as(name).isEqualTo(expected.get(name));
            }
        }
    }

    private static String shardName(int shard) {
        return "model-0000" + (shard + 1) + "-of-00002.safetensors";
    }

    private static byte[] tar(Map<String, byte[]> files) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (TarArchiveOutputStream tar = new TarArchiveOutputStream(bytes)) {
            for (Map.Entry<String, byte[]> file : files.entrySet()) {
                TarArchiveEntry entry = new TarArchiveEntry(file.getKey());
                entry.setSize(file.getValue().length);
                tar.putArchiveEntry(entry);
                tar.write(file.getValue());
                tar.closeArchiveEntry();
            }
        }
        return bytes.toByteArray();
    }

    @Test
    void foldersItCannotTakeAreRefusedSayingWhyAndStoreNothing() throws Exception {
        TinyGpt2 model = new TinyGpt2().seed(73);
        long before = jdbc.queryForObject("select count(*) from checkpoint", Long.class);

        JsonNode pickle = refused(uploadFolder("bin.tar", tar(Map.of("config.json", model.config(),
                "pytorch_model.bin", new byte[] {(byte) 0x80, 2, 'c', 'o', 's'}))));
        assertThat(pickle.path("detail").asText()).contains("pickle").contains("runs").contains("safe_serialization=True");

        JsonNode missing = refused(uploadFolder("missing.tar", tar(Map.of("config.json", model.config(),
                "model.safetensors.index.json", JSON.writeValueAsBytes(Map.of("weight_map",
                        Map.of("wte.weight", "model-00001-of-00002.safetensors")))))));
        assertThat(missing.path("errors").get(0).path("field").asText()).isEqualTo("model.safetensors.index.json");
        assertThat(missing.path("detail").asText()).contains("model-00001-of-00002.safetensors").contains("not in the archive");

        JsonNode noConfig = refused(uploadFolder("weights.tar", tar(Map.of("model.safetensors", model.weights()))));
        assertThat(noConfig.path("detail").asText()).contains("no config.json");

        JsonNode notAnArchive = refused(uploadFolder("notes.txt", "just some text".getBytes(StandardCharsets.UTF_8)));
        assertThat(notAnArchive.path("detail").asText()).contains("not a tar, tar.gz or zip");

        String exported = checkpointOf(post("/checkpoints", Multipart.checkpoint(model)));
        byte[] whole = getBytes("/checkpoints/" + exported + "/archive").body();
        JsonNode truncated = refused(uploadFolder("cut.tar.gz", java.util.Arrays.copyOf(whole, whole.length / 2)));
        assertThat(truncated.path("detail").asText()).contains("truncated or corrupt");
        JsonNode badZip = refused(uploadFolder("bad.zip", "PK\u0003\u0004 and then nothing".getBytes(StandardCharsets.UTF_8)));
        assertThat(badZip.path("detail").asText()).contains("archive");

        assertThat(jdbc.queryForObject("select count(*) from checkpoint", Long.class)).isEqualTo(before + 1);
    }

    private static JsonNode refused(HttpResponse<String> response) {
        assertThat(response.statusCode()).as(response.body()).isEqualTo(422);
        JsonNode problem = json(response);
        assertThat(problem.path("type").asText()).isEqualTo("https://consort.dev/problems/invalid-checkpoint");
        return problem;
    }
}
