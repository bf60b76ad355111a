package dev.consort.cka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Random;
import javax.imageio.ImageIO;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.consort.engine.Gpt2Config;
import dev.consort.engine.Gpt2Model;
import dev.consort.support.ApiTest;
import dev.consort.support.Multipart;
import dev.consort.support.TinyGpt2;
import tools.jackson.databind.JsonNode;

/**
 * cka jobs over HTTP on two tiny GPT-2s (3 layers, width 16): the properties CKA must have, an
 * independent float64 token-space computation, and the heatmaps.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class CkaJobTest extends ApiTest {

    private static final int CONTEXT = 8;
    private static final int WINDOWS = 6;
    private TinyGpt2 modelA;
    private TinyGpt2 modelB;
    private String a;
    private String b;
    private String dataset;
    private int[] tokens;

    @BeforeAll
    void upload() {
        modelA = new TinyGpt2().vocab(50257).seed(11);
        modelA.nLayer = 3;
        modelA.nEmbd = 16;
        modelB = new TinyGpt2().vocab(50257).seed(12);
        modelB.nLayer = 3;
        modelB.nEmbd = 16;
        a = uploadCheckpoint(modelA, "model-a");
        b = uploadCheckpoint(modelB, "model-b");
        String text = "Adjacent layers look alike; specialists drift apart as they train. ".repeat(12);
        HttpResponse<String> response = post("/datasets", new Multipart()
                .file("file", "cka.txt", text.getBytes(StandardCharsets.UTF_8)).field("val_fraction", "0"));
        assertThat(response.statusCode()).as(response.body()).isEqualTo(201);
        dataset = json(response).path("id").asText();
        tokens = new int[0];
        byte[] raw = getBytes("/datasets/" + dataset + "/tokens/train").body();
        tokens = new int[raw.length / 2];
        for (int i = 0; i < tokens.length; i++) {
            tokens[i] = (raw[2 * i] & 0xFF) | (raw[2 * i + 1] & 0xFF) << 8;
        }
        assertThat(tokens.length).isGreaterThanOrEqualTo(CONTEXT * WINDOWS);
    }

    @AfterEach
    void noTransform() {
        TestCkaFeatureHook.transform = null;
    }

    private String uploadCheckpoint(TinyGpt2 model, String name) {
        HttpResponse<String> response = post("/checkpoints", new Multipart().file("config", "config.json", model.config())
                .file("weights", "model.safetensors", model.weights()).field("name", name));
        assertThat(response.statusCode()).as(response.body()).isEqualTo(201);
        return json(response).path("id").asText();
    }

    private JsonNode runCka(String modelB, String extra) {
        String spec = "{\"model_a_id\": \"" + a + "\", " + (modelB == null ? "" : "\"model_b_id\": \"" + modelB + "\", ")
                + "\"dataset_id\": \"" + dataset + "\", \"split\": \"train\", \"context\": " + CONTEXT
                + ", \"windows\": " + WINDOWS + extra + "}";
        HttpResponse<String> created = postJson("/jobs", "{\"type\": \"cka\", \"spec\": " + spec + "}");
        assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
        String id = json(created).path("id").asText();
        awaitSuccess(id, Duration.ofMinutes(2));
        return json(get("/jobs/" + id + "/cka"));
    }

    private static double[][] matrix(JsonNode cka, String name) {
        JsonNode rows = cka.path("matrices").path(name);
        double[][] values = new double[rows.size()][];
        for (int r = 0; r < rows.size(); r++) {
            values[r] = new double[rows.get(r).size()];
            for (int c = 0; c < values[r].length; c++) {
                values[r][c] = rows.get(r).get(c).asDouble();
            }
        }
        return values;
    }

    private static void assertClose(double[][] actual, double[][] expected, double tolerance) {
        assertThat(actual.length).isEqualTo(expected.length);
        for (int r = 0; r < actual.length; r++) {
            for (int c = 0; c < actual[r].length; c++) {
                assertThat(actual[r][c]).as("[%d][%d]", r, c).isCloseTo(expected[r][c], within(tolerance));
            }
        }
    }

    @Test
    void ckaOfAModelWithItselfIsSymmetricWithAUnitDiagonal() {
        JsonNode cka = runCka(a, "");
        double[][] inter = matrix(cka, "inter");
        assertThat(inter).hasNumberOfRows(3);
        for (int i = 0; i < 3; i++) {
            assertThat(inter[i][i]).isCloseTo(1.0, within(1e-9));
            for (int j = 0; j < 3; j++) {
                assertThat(inter[i][j]).isCloseTo(inter[j][i], within(1e-9));
                assertThat(inter[i][j]).isBetween(0.0, 1.0 + 1e-9);
            }
        }
        assertClose(matrix(cka, "intra_a"), inter, 1e-9);
        assertClose(matrix(cka, "intra_b"), inter, 1e-9);
        assertThat(cka.path("rows").asLong()).isEqualTo((long) CONTEXT * WINDOWS);
        assertThat(cka.path("representation").asText()).isEqualTo("mlp");
    }

    @Test
    void agreesWithAnIndependentFloat64ComputationInTokenSpace() throws Exception {
        JsonNode cka = runCka(b, "");
        double[][][] featuresA = mlpOutputs(modelA);
        double[][][] featuresB = mlpOutputs(modelB);
        double[][] inter = matrix(cka, "inter");
        double[][] intraA = matrix(cka, "intra_a");
        for (int i = 0; i < 3; i++) {
            for (int j = 0; j < 3; j++) {
                assertThat(inter[i][j]).as("inter[%d][%d]", i, j)
                        .isCloseTo(TokenSpaceCka.linear(featuresA[i], featuresB[j]), within(1e-6));
                assertThat(intraA[i][j]).as("intra_a[%d][%d]", i, j)
                        .isCloseTo(TokenSpaceCka.linear(featuresA[i], featuresA[j]), within(1e-6));
            }
        }
        JsonNode debiased = runCka(b, ", \"estimator\": \"debiased\"");
        assertThat(matrix(debiased, "inter")[1][2])
                .isCloseTo(TokenSpaceCka.debiased(featuresA[1], featuresB[2]), within(1e-6));
    }

    @Test
    void isUnchangedByAnOrthogonalRotationAnIsotropicScalingAndTheBatchSize() {
        double[][] reference = matrix(runCka(b, ""), "inter");

        double[][] rotation = randomOrthogonal(16, new Random(3));
        float[] flat = new float[16 * 16];
        for (int r = 0; r < 16; r++) {
            for (int c = 0; c < 16; c++) {
                flat[r * 16 + c] = (float) rotation[r][c];
            }
        }
        TestCkaFeatureHook.transform = (layer, x) -> x.matMul(x.getManager().create(flat, new Shape(16, 16)));
        assertClose(matrix(runCka(b, ""), "inter"), reference, 1e-5);

        TestCkaFeatureHook.transform = (layer, x) -> x.mul(3.7f);
        assertClose(matrix(runCka(b, ""), "inter"), reference, 1e-5);

        TestCkaFeatureHook.transform = null;
        assertClose(matrix(runCka(b, ", \"batch_size\": 1"), "inter"), reference, 1e-6);
        assertClose(matrix(runCka(b, ", \"batch_size\": 4"), "inter"), reference, 1e-6);
    }

    @Test
    void heatmapsArePngAndSvgWithOnePanelPerMatrix() throws Exception {
        JsonNode pair = runCka(b, ", \"representation\": \"residual\", \"pooling\": \"mean\"");
        String pairJob = pair.path("job_id").asText();
        assertThat(pair.path("rows").asLong()).isEqualTo(WINDOWS);
        HttpResponse<byte[]> png = send(pairJob, "image/png");
        assertThat(png.headers().firstValue("Content-Type")).hasValue("image/png");
        BufferedImage three = ImageIO.read(new ByteArrayInputStream(png.body()));
        assertThat(three).isNotNull();

        JsonNode single = runCka(null, "");
        assertThat(single.path("matrices").has("inter")).isFalse();
        BufferedImage one = ImageIO.read(new ByteArrayInputStream(
                getBytes("/jobs/" + single.path("job_id").asText() + "/cka?format=png").body()));
        // Three panels side by side make a much wider figure than one (CkaHeatmapsTest checks each panel's cells).
        assertThat(three.getWidth()).isGreaterThan(one.getWidth() * 3 / 2);

        String svg = new String(send(pairJob, "image/svg+xml").body(), StandardCharsets.UTF_8);
        assertThat(svg).startsWith("<svg").contains("A × B");
    }

    @Test
    void lossCurvesComeAsPicturesToo() throws Exception {
        HttpResponse<String> created = postJson("/jobs", "{\"type\": \"test.count\", \"spec\": {\"steps\": 5}}");
        String id = json(created).path("id").asText();
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (!json(get("/jobs/" + id)).path("status").asText().equals("succeeded")) {
            assertThat(System.nanoTime()).isLessThan(deadline);
            Thread.sleep(50);
        }
        BufferedImage plot = ImageIO.read(new ByteArrayInputStream(getBytes("/jobs/" + id + "/losses?format=png").body()));
        assertThat(plot).isNotNull();
        HttpResponse<byte[]> negotiated = send("/jobs/" + id + "/losses", "image/png", true);
        assertThat(negotiated.statusCode()).isEqualTo(200);
        assertThat(ImageIO.read(new ByteArrayInputStream(negotiated.body()))).isNotNull();
        assertThat(get("/jobs/" + id + "/losses").headers().firstValue("Content-Type").orElse(""))
                .startsWith("application/json");
    }

    @Test
    void ckaOfJobsThatAreNotFinishedCkaJobsIsAProblem() {
        HttpResponse<String> created = postJson("/jobs", "{\"type\": \"test.count\", \"spec\": {\"steps\": 1}}");
        String notCka = json(created).path("id").asText();
        assertThat(get("/jobs/" + notCka + "/cka").statusCode()).isEqualTo(404);
        assertThat(get("/jobs/" + java.util.UUID.randomUUID() + "/cka").statusCode()).isEqualTo(404);
        HttpResponse<String> tooLong = postJson("/jobs", "{\"type\": \"cka\", \"spec\": {\"model_a_id\": \"" + a
                + "\", \"dataset_id\": \"" + dataset + "\", \"context\": 4096}}");
        assertThat(tooLong.statusCode()).isEqualTo(422);
        assertThat(tooLong.body()).contains("spec.context");
    }

    private HttpResponse<byte[]> send(String job, String accept) {
        return send("/jobs/" + job + "/cka", accept, true);
    }

    private HttpResponse<byte[]> send(String path, String accept, boolean bytes) {
        try {
            return HTTP.send(java.net.http.HttpRequest.newBuilder(uri(path)).header("Accept", accept).GET().build(),
                    HttpResponse.BodyHandlers.ofByteArray());
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    /** Each layer's MLP output on the job's windows, [windows·T, C] in float64, from the engine in this JVM. */
    private double[][][] mlpOutputs(TinyGpt2 tiny) throws Exception {
        Path file = Files.createTempFile("cka-model-", ".safetensors");
        try {
            Files.write(file, tiny.weights());
            Gpt2Config config = Gpt2Config.parse(tiny.config());
            try (Gpt2Model model = Gpt2Model.load(file, config, Device.cpu());
                 NDManager scope = model.manager().newSubManager()) {
                int[] ids = java.util.Arrays.copyOf(tokens, CONTEXT * WINDOWS);
                NDArray input = scope.create(ids, new Shape(WINDOWS, CONTEXT));
                double[][][] features = new double[config.nLayer()][][];
                model.forward(input, (layer, mlp, residual) -> {
                    float[] values = mlp.toFloatArray();
                    int c = config.nEmbd();
                    double[][] rows = new double[values.length / c][c];
                    for (int i = 0; i < values.length; i++) {
                        rows[i / c][i % c] = values[i];
                    }
                    features[layer] = rows;
                }, null);
                return features;
            }
        } finally {
            Files.deleteIfExists(file);
        }
    }

    /** Gram-Schmidt on a random Gaussian matrix: the columns are orthonormal. */
    private static double[][] randomOrthogonal(int n, Random random) {
        double[][] q = new double[n][n];
        for (int c = 0; c < n; c++) {
            double[] v = new double[n];
            for (int r = 0; r < n; r++) {
                v[r] = random.nextGaussian();
            }
            for (int k = 0; k < c; k++) {
                double dot = 0;
                for (int r = 0; r < n; r++) {
                    dot += v[r] * q[r][k];
                }
                for (int r = 0; r < n; r++) {
                    v[r] -= dot * q[r][k];
                }
            }
            double norm = 0;
            for (double x : v) {
                norm += x * x;
            }
            norm = Math.sqrt(norm);
            for (int r = 0; r < n; r++) {
                q[r][c] = v[r] / norm;
            }
        }
        return q;
    }
}
