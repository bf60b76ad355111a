package dev.consort.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.function.Consumer;
import java.util.function.Supplier;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

import dev.consort.support.ApiTest;
import dev.consort.support.Multipart;
import dev.consort.support.TestDatabase;
import dev.consort.support.TestSafetensors;
import dev.consort.support.TinyGpt2;

/** Every malformed upload gets a problem naming what is wrong, and leaves no row, no blob and no file. */
class CheckpointRejectionTest extends ApiTest {

    private static final JsonMapper MAPPER = JsonMapper.builder().build();
    private static final Path BLOBS = TestDatabase.dataDir().resolve("blobs");

    /** One bad upload: what to send and what the 422 must name. */
    record Case(String label, Supplier<byte[]> config, Supplier<byte[]> weights, String field, String detail) {
        @Override
        public String toString() {
            return label;
        }
    }

    static Case weights(String label, Supplier<byte[]> weights, String field, String detail) {
        return new Case(label, () -> new TinyGpt2().config(), weights, field, detail);
    }

    static Case config(String label, Consumer<ObjectNode> edit, String field, String detail) {
        return new Case(label, () -> {
            ObjectNode config = (ObjectNode) MAPPER.readTree(new TinyGpt2().config());
            edit.accept(config);
            return MAPPER.writeValueAsBytes(config);
        }, () -> new TinyGpt2().weights(), field, detail);
    }

    /** A valid model's file whose header was edited. */
    static byte[] tampered(Consumer<ObjectNode> edit, int extraDataBytes) {
        TestSafetensors tensors = new TinyGpt2().tensors();
        ObjectNode header = tensors.header();
        edit.accept(header);
        byte[] data = Arrays.copyOf(tensors.data(), tensors.data().length + extraDataBytes);
        return TestSafetensors.file(MAPPER.writeValueAsString(header), data);
    }

    static void shiftOffsets(ObjectNode header, String tensor, long by) {
        ArrayNode offsets = (ArrayNode) header.path(tensor).path("data_offsets");
        long begin = offsets.get(0).asLong() + by;
        long end = offsets.get(1).asLong() + by;
        offsets.removeAll().add(begin).add(end);
    }

    static Stream<Case> badUploads() {
        byte[] emptyHeader = "{}".getBytes(StandardCharsets.UTF_8);
        return Stream.of(
                weights("shorter than 8 bytes", () -> new byte[5], "file", "too short to hold the 8-byte header length"),
                weights("header length larger than the file is rejected", () -> TestSafetensors.withLength(4096, emptyHeader,
                        new byte[0]), "header", "header length 4096 larger than the file"),
                weights("1 GB header length claim is rejected", () -> TestSafetensors.withLength(1L << 30, emptyHeader, new byte[64]),
                        "header", "header length 1073741824 exceeds the cap"),
                weights("data shorter than the offsets", () -> {
                    byte[] whole = new TinyGpt2().weights();
                    return Arrays.copyOf(whole, whole.length - 10);
                }, "transformer.ln_f.bias", "run past the end of the data"),
                weights("header not JSON", () -> TestSafetensors.file("this is not json", new byte[0]), "header",
                        "not valid JSON"),
                weights("header not UTF-8", () -> TestSafetensors.file(
                        new byte[] {'{', '"', (byte) 0xFF, (byte) 0xFE, '"', ':', '1', '}'}, new byte[0]), "header",
                        "not valid UTF-8"),
                weights("duplicate header keys", () -> TestSafetensors.file("""
                        {"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}""",
                        new byte[4]), "header", "Duplicate"),
                weights("overlapping offsets are rejected", () -> tampered(h -> shiftOffsets(h, "transformer.wpe.weight", -4), 0),
                        "transformer.wpe.weight", "overlap transformer.wte.weight"),
                weights("gap between offsets", () -> tampered(h -> shiftOffsets(h, "transformer.ln_f.bias", 4), 4),
                        "transformer.ln_f.bias", "leave a gap of 4 bytes"),
                weights("offsets past the end are rejected", () -> tampered(h -> shiftOffsets(h, "transformer.ln_f.bias", 4), 0),
                        "transformer.ln_f.bias", "run past the end of the data"),
                weights("shape whose element count overflows a long is rejected", () -> tampered(h -> ((ArrayNode) h.path("transformer.wte.weight")
                        .path("shape")).removeAll().add(4294967296L).add(4294967296L), 0), "transformer.wte.weight",
                        "more elements than a 64-bit count can hold"),
                weights("unknown dtype", () -> tampered(h -> ((ObjectNode) h.path("transformer.wpe.weight"))
                        .put("dtype", "F12"), 0), "transformer.wpe.weight", "unknown dtype \"F12\""),
                weights("I32 dtype", () -> new TinyGpt2().tensorDtype("wpe.weight", "I32").weights(),
                        "transformer.wpe.weight", "dtype I32 is not accepted; weights must be F32, F16, BF16 or F64"),
                weights("wrong shape", () -> new TinyGpt2().shape("h.1.mlp.c_fc.weight", 32, 8).weights(),
                        "transformer.h.1.mlp.c_fc.weight",
                        "transformer.h.1.mlp.c_fc.weight: shape [32, 8] but config.json implies [8, 32]"),
                weights("missing tensor", () -> new TinyGpt2().omit("h.0.ln_2.weight").weights(), "h.0.ln_2.weight",
                        "missing (config.json implies shape [8])"),
                weights("tensor named ../etc/passwd is rejected as unexpected", () -> new TinyGpt2().extra("../etc/passwd", 4).weights(), "../etc/passwd",
                        "unexpected tensor"),
                weights("duplicate after prefix normalisation", () -> new TinyGpt2().extra("ln_f.weight", 8).weights(),
                        "ln_f.weight", "names the same tensor as transformer.ln_f.weight"),
                weights("NaN weights are rejected", () -> new TinyGpt2().poison("h.1.attn.c_proj.weight", Float.NaN).weights(),
                        "transformer.h.1.attn.c_proj.weight", "element 0 is NaN; checkpoints with NaN or infinite "
                                + "weights are rejected"),
                weights("infinite F16 weights are rejected", () -> new TinyGpt2().dtype("F16")
                        .poison("wpe.weight", Float.NEGATIVE_INFINITY).weights(), "transformer.wpe.weight", "-Infinity"),
                new Case("config.json not JSON", () -> "{\"n_layer\": 2,".getBytes(StandardCharsets.UTF_8),
                        () -> new TinyGpt2().weights(), "config.json", "not valid JSON"),
                new Case("config.json over 1 MiB", () -> new byte[(1 << 20) + 1], () -> new TinyGpt2().weights(),
                        "config.json", "is larger than 1048576 bytes"),
                config("config.json without n_embd", c -> c.remove("n_embd"), "n_embd", "missing from config.json"),
                config("n_embd not divisible by n_head", c -> c.put("n_head", 3), "n_head",
                        "n_embd (8) is not divisible by n_head (3)"),
                config("config.json disagreeing with the weights", c -> c.put("n_layer", 3), "h.2.ln_1.weight",
                        "missing"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badUploads")
    void rejectsAndLeavesNothingBehind(Case bad) throws IOException {
        byte[] weights = bad.weights().get();
        Leftovers before = leftovers();

        HttpResponse<String> response = post("/checkpoints", new Multipart()
                .file("config", "config.json", bad.config().get())
                .file("weights", "model.safetensors", weights));

        assertThat(response.statusCode()).as(response.body()).isEqualTo(422);
        assertThat(response.headers().firstValue("Content-Type")).hasValueSatisfying(
                ct -> assertThat(ct).startsWith("application/problem+json"));
        JsonNode problem = json(response);
        assertThat(problem.path("type").asText()).isEqualTo("https://consort.dev/problems/invalid-checkpoint");
        assertThat(problem.path("status").asInt()).isEqualTo(422);
        assertThat(problem.path("detail").asText()).contains(bad.field()).contains(bad.detail());
        assertThat(problem.path("errors")).anySatisfy(error -> {
            assertThat(error.path("field").asText()).isEqualTo(bad.field());
            assertThat(bad.field() + ": " + error.path("message").asText()).contains(bad.detail());
        });
        assertNothingLeft(before, CheckpointApiTest.sha256(weights));
    }

    @Test
    void aMissingPartIsABadRequest() throws IOException {
        TinyGpt2 model = new TinyGpt2();
        Leftovers before = leftovers();

        HttpResponse<String> noWeights = post("/checkpoints", new Multipart().file("config", "config.json", model.config()));
        assertThat(noWeights.statusCode()).isEqualTo(400);
        JsonNode problem = json(noWeights);
        assertThat(problem.path("type").asText()).isEqualTo("https://consort.dev/problems/bad-request");
        assertThat(problem.path("errors").get(0).path("field").asText()).isEqualTo("weights");
        assertThat(problem.path("detail").asText()).contains("weights");

        HttpResponse<String> noConfig = post("/checkpoints",
                new Multipart().file("weights", "model.safetensors", model.weights()));
        assertThat(noConfig.statusCode()).isEqualTo(400);
        assertThat(json(noConfig).path("errors").get(0).path("field").asText()).isEqualTo("config");
        assertNothingLeft(before, CheckpointApiTest.sha256(model.weights()));
    }

    @Test
    void aNameOverTwoHundredCharactersIsRejected() throws IOException {
        TinyGpt2 model = new TinyGpt2();
        Leftovers before = leftovers();
        HttpResponse<String> response = post("/checkpoints", new Multipart()
                .file("config", "config.json", model.config())
                .file("weights", "model.safetensors", model.weights())
                .field("name", "x".repeat(201)));
        assertThat(response.statusCode()).isEqualTo(422);
        assertThat(json(response).path("errors").get(0).path("field").asText()).isEqualTo("name");
        assertNothingLeft(before, CheckpointApiTest.sha256(model.weights()));
    }

    @Test
    void aJsonBodyIsAnUnsupportedMediaType() {
        HttpResponse<String> response = postJson("/checkpoints", "{}");
        assertThat(response.statusCode()).isEqualTo(415);
        assertThat(json(response).path("type").asText()).isEqualTo("https://consort.dev/problems/unsupported-media-type");
    }

    /** What a rejected upload must not change. */
    record Leftovers(int checkpoints, int blobs, int blobRefs, long blobFiles) {}

    private Leftovers leftovers() throws IOException {
        return new Leftovers(
                jdbc.queryForObject("select count(*) from checkpoint", Integer.class),
                jdbc.queryForObject("select count(*) from blob", Integer.class),
                jdbc.queryForObject("select count(*) from blob_ref", Integer.class),
                regularFiles(BLOBS.resolve("sha256")));
    }

    private void assertNothingLeft(Leftovers before, String sha256) throws IOException {
        assertThat(leftovers()).isEqualTo(before);
        assertThat(CheckpointApiTest.blobFile(sha256)).doesNotExist();
        assertThat(jdbc.queryForObject("select count(*) from blob where sha256 = ?", Integer.class, sha256)).isZero();
        assertThat(regularFiles(BLOBS.resolve("staging"))).as("staging files").isZero();
    }

    private static long regularFiles(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return 0;
        }
        try (Stream<Path> files = Files.walk(dir)) {
            return files.filter(Files::isRegularFile).count();
        }
    }
}
