package dev.consort.fuzz;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;

import dev.consort.support.ApiTest;
import dev.consort.support.Multipart;
import dev.consort.support.TestDatabase;
import dev.consort.support.TinyGpt2;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * Hostile input through the real upload endpoints: a seeded mutation loop sends mutated model.safetensors
 * files, config.json files and dataset files (.txt, .jsonl, .json) to {@code POST /checkpoints} and
 * {@code POST /datasets} over HTTP. Every answer must be a 2xx or a 4xx problem, never a 5xx or a request
 * that hangs; a 2xx only for input the test's own reference checks ({@link ReferenceCheckpoint},
 * {@link ReferenceDataset}) call valid, and valid input must not be refused. Accepted uploads are checked
 * (weights byte-identical, record counts) and deleted; at the end no row, blob, staging, upload or temporary
 * file is left over.
 *
 * <p>{@code -Dconsort.fuzz.iterations=N} (default 10,000) and {@code -Dconsort.fuzz.seed=S} (default fixed,
 * so CI runs the same inputs; pass another to explore) choose the inputs; iteration {@code i}'s input
 * depends only on the seed and {@code i}, and every failure names both. Failing inputs are written to
 * {@code target/fuzz-failures}.
 */
class UploadFuzzTest extends ApiTest {

    private static final long SEED = Long.getLong("consort.fuzz.seed", 20_260_607L);
    private static final int ITERATIONS = Integer.getInteger("consort.fuzz.iterations", 10_000);
    /** Concurrent clients: below consort.limits.concurrent-uploads, so none is refused for capacity. */
    private static final int CLIENTS = 4;
    private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(30);
    private static final JsonMapper MAPPER = Mutator.JSON;
    private static final String[] WORDS = {"the", "model", "merges", "weights", "of", "experts", "café", "naïve",
            "日本語", "данные", "🙂", "λ", "x", "1234", "\"quoted\"", "tab\there", "a\\b", "{braces}", "<|endoftext|>"};

    /** A valid checkpoint to mutate, and where its tensors' bytes are. */
    private record Base(String label, byte[] config, byte[] weights, List<String> tensorNames,
            Map<String, long[]> offsets, Map<String, String> dtypes) {

        static Base of(String label, TinyGpt2 model) {
            byte[] weights = model.weights();
            long length = ByteBuffer.wrap(weights, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
            JsonNode header = MAPPER.readTree(new String(weights, 8, (int) length, StandardCharsets.UTF_8));
            List<String> names = new ArrayList<>();
            Map<String, long[]> offsets = new LinkedHashMap<>();
            Map<String, String> dtypes = new LinkedHashMap<>();
            for (String name : header.propertyNames()) {
                if (name.equals("__metadata__")) {
                    continue;
                }
                names.add(name);
                JsonNode tensor = header.get(name);
                String dtype = tensor.get("dtype").asText();
                if (Set.of("F32", "F16", "BF16", "F64").contains(dtype)) {
                    offsets.put(name, new long[] {tensor.get("data_offsets").get(0).asLong(),
                            tensor.get("data_offsets").get(1).asLong()});
                    dtypes.put(name, dtype);
                }
            }
            return new Base(label, model.config(), weights, names, offsets, dtypes);
        }
    }

    private static final List<Base> BASES = List.of(
            Base.of("F32 transformer.", new TinyGpt2().seed(11)),
            Base.of("F16 bare", new TinyGpt2().seed(12).dtype("F16").bare()),
            Base.of("BF16 with lm_head", new TinyGpt2().seed(13).dtype("BF16").withLmHead()),
            Base.of("F64 with attention buffers", new TinyGpt2().seed(14).dtype("F64").withAttentionBuffers()));

    /** One generated upload. */
    private record Input(String endpoint, String kind, Multipart form, byte[] config, byte[] file, String format,
            String name) {}

    /** What came back for one input, and why it is wrong if it is. */
    private record Outcome(String key, String failure) {}

    private final Map<String, AtomicLong> outcomes = new ConcurrentHashMap<>();
    private final Map<String, AtomicLong> millisByKind = new ConcurrentHashMap<>();
    private final List<String> failures = Collections.synchronizedList(new ArrayList<>());

    @Test
    void mutatedUploadsGetOnly2xxFor4xxProblemsAndLeaveNothingBehind() throws Exception {
        Path data = TestDatabase.dataDir();
        Leftovers before = leftovers(data);
        System.out.printf("upload fuzz: seed %d, %d iterations, %d clients%n", SEED, ITERATIONS, CLIENTS);
        long started = System.nanoTime();

        ExecutorService clients = Executors.newFixedThreadPool(CLIENTS);
        try {
            List<Future<?>> running = new ArrayList<>();
            for (int i = 0; i < ITERATIONS; i++) {
                int iteration = i;
                running.add(clients.submit(() -> run(iteration)));
            }
            for (Future<?> task : running) {
                task.get();
            }
        } finally {
            clients.shutdownNow();
        }
        double seconds = (System.nanoTime() - started) / 1e9;

        Map<String, Long> sorted = new TreeMap<>();
        outcomes.forEach((key, count) -> sorted.put(key, count.get()));
        System.out.printf("upload fuzz: %d uploads in %.1f s (%.0f/s); outcomes:%n", ITERATIONS, seconds,
                ITERATIONS / seconds);
        sorted.forEach((key, count) -> System.out.printf("  %6d  %s%n", count, key));
        System.out.println("upload fuzz: client-side milliseconds per kind (summed over clients): " + new TreeMap<>(millisByKind));

        assertThat(failures).as("seed %d: %d of %d uploads answered wrongly (inputs in target/fuzz-failures)",
                SEED, failures.size(), ITERATIONS).isEmpty();
        assertThat(sorted.values().stream().mapToLong(Long::longValue).sum()).isEqualTo(ITERATIONS);
        assertThat(get("/actuator/health/liveness").statusCode()).isEqualTo(200);
        assertThat(leftovers(data)).isEqualTo(before);
        assertThat(files(data.resolve("blobs").resolve("staging"))).as("staging files").isEmpty();
        assertThat(files(data.resolve("multipart"))).as("multipart files").isEmpty();
        assertThat(files(data.resolve("tmp"))).as("temporary token files").isEmpty();
    }

    private void run(int iteration) {
        // An input that depends on the seed and the iteration only, whatever thread runs it.
        Mutator mutator = new Mutator(new SplittableRandom(SEED * 0x9E3779B97F4A7C15L + iteration));
        Input input;
        try {
            input = generate(iteration, mutator);
        } catch (RuntimeException e) {
            fail(iteration, mutator, null, "could not generate the input: " + e);
            return;
        }
        long sent = System.nanoTime();
        Outcome outcome = send(input);
        millisByKind.computeIfAbsent(input.kind(), k -> new AtomicLong()).addAndGet((System.nanoTime() - sent) / 1_000_000);
        outcomes.computeIfAbsent(outcome.key(), k -> new AtomicLong()).incrementAndGet();
        if (outcome.failure() != null) {
            fail(iteration, mutator, input, outcome.failure());
        }
    }

    private Input generate(int iteration, Mutator m) {
        return switch (iteration % 5) {
            case 0, 1 -> weightsInput(m);
            case 2 -> configInput(m);
            default -> datasetInput(m, new String[] {"txt", "jsonl", "json"}[(iteration / 5) % 3]);
        };
    }

    private static Input checkpointInput(Mutator m, String kind, byte[] config, byte[] weights) {
        Multipart form = new Multipart().file("config", "config.json", config)
                .file("weights", "model.safetensors", weights);
        String name = null;
        if (m.chance(5)) {
            // A display name that looks like a path: stored as given, never used as one.
            name = List.of("../../../tmp/evil", "..\\..\\evil", "/etc/passwd", "a/../../b").get(m.below(4));
            form.field("name", name);
            m.log.add("name " + name);
        }
        return new Input("/checkpoints", kind, form, config, weights, null, name);
    }

    private static Input weightsInput(Mutator m) {
        Base base = BASES.get(m.below(BASES.size()));
        m.log.add(base.label());
        long headerEnd = 8 + ByteBuffer.wrap(base.weights(), 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        int pick = m.below(100);
        byte[] weights;
        if (pick < 25) {
            weights = m.bytes(base.weights());
        } else if (pick < 35) {
            byte[] header = m.bytes(Arrays.copyOfRange(base.weights(), 8, (int) headerEnd));
            weights = Mutator.splice(base.weights(), 8, (int) headerEnd, header);
        } else if (pick < 50) {
            weights = m.headerLength(base.weights());
        } else if (pick < 75) {
            weights = m.header(base.weights(), base.tensorNames());
        } else if (pick < 90) {
            weights = m.poisonData(base.weights(), base.offsets(), base.dtypes());
        } else {
            byte[] dataRegion = m.bitFlips(Arrays.copyOfRange(base.weights(), (int) headerEnd, base.weights().length));
            weights = Mutator.splice(base.weights(), (int) headerEnd, base.weights().length, dataRegion);
        }
        return checkpointInput(m, "safetensors", base.config(), weights);
    }

    private static Input configInput(Mutator m) {
        Base base = BASES.get(m.below(BASES.size()));
        m.log.add(base.label());
        int pick = m.below(100);
        byte[] config;
        if (pick < 40) {
            config = m.jsonObject((ObjectNode) MAPPER.readTree(base.config()),
                    List.of("n_embd", "n_layer", "n_inner", "n_ctx", "../n_head", "N_LAYER", "vocab_size"))
                    .getBytes(StandardCharsets.UTF_8);
        } else if (pick < 70) {
            config = m.bytes(base.config());
        } else if (pick < 92) {
            ObjectNode tree = (ObjectNode) MAPPER.readTree(base.config());
            String field = List.of("n_layer", "n_embd", "n_head", "vocab_size", "n_positions", "n_ctx", "n_inner",
                    "layer_norm_epsilon", "activation_function").get(m.below(9));
            JsonNode value = m.chance(50) ? m.hostileNumber() : m.hostileValue();
            tree.set(field, value);
            m.log.add(field + " = " + abbreviate(Mutator.write(value)));
            config = MAPPER.writeValueAsBytes(tree);
        } else if (pick < 95) {
            ObjectNode tree = (ObjectNode) MAPPER.readTree(base.config());
            tree.put("padding", "p".repeat((1 << 20) + m.below(1000)));
            m.log.add("config over 1 MiB");
            config = MAPPER.writeValueAsBytes(tree);
        } else {
            ObjectNode tree = (ObjectNode) MAPPER.readTree(base.config());
            tree.put("architectures_note", "an unrelated field: ignored");
            m.log.add("unrelated field");
            config = MAPPER.writeValueAsBytes(tree);
        }
        return checkpointInput(m, "config.json", config, base.weights());
    }

    private static Input datasetInput(Mutator m, String format) {
        List<String> records = new ArrayList<>();
        int count = 1 + m.below(12);
        for (int i = 0; i < count; i++) {
            records.add(sentence(m, format.equals("txt")));
        }
        byte[] file = render(format, records);
        int pick = m.below(100);
        if (pick < 30) {
            file = m.bytes(file);
        } else if (pick < 40) {
            file = m.insertInvalidUtf8(file);
        } else if (pick < 45) {
            file = List.of(new byte[0], " \n\t\r\n ".getBytes(StandardCharsets.UTF_8), "\uFEFF".getBytes(
                    StandardCharsets.UTF_8), new byte[] {0, 0, 0}).get(m.below(4));
            m.log.add("empty or blank file (" + file.length + " bytes)");
        } else if (pick < 49) {
            // One huge record, with multi-byte characters so that reading buffers end inside them.
            int length = 65_536 + m.below(131_072);
            StringBuilder huge = new StringBuilder(length);
            while (huge.length() < length) {
                huge.append(WORDS[m.below(WORDS.length)].replace("\n", " ")).append(m.chance(5) ? "\n" : " ");
            }
            records.add(m.below(records.size() + 1), format.equals("txt") ? huge.toString().replace("\n", " ")
                    : huge.toString());
            m.log.add("huge record of " + length + " chars");
            file = render(format, records);
        } else if (pick < 85 && !format.equals("txt")) {
            file = jsonRecordMutation(m, format, records);
        } else if (pick < 85) {
            file = txtMutation(m, records);
        } else {
            m.log.add("unmutated, " + records.size() + " records");
        }
        String fileName = "data." + format;
        if (m.chance(10)) {
            // Only the last name of a path-like file name counts (as browsers send C:\fakepath\...).
            fileName = List.of("../../etc/", "..\\..\\", "/tmp/../", "C:\\fakepath\\").get(m.below(4)) + fileName;
            m.log.add("file name " + fileName);
        }
        Multipart form = new Multipart().file("file", fileName, file);
        return new Input("/datasets", format, form, null, file, format, null);
    }

    private static String sentence(Mutator m, boolean txt) {
        StringBuilder text = new StringBuilder();
        int words = 1 + m.below(20);
        for (int w = 0; w < words; w++) {
            text.append(w == 0 ? "" : " ").append(WORDS[m.below(WORDS.length)]);
        }
        if (!txt && m.chance(10)) {
            text.append("\n\nwith blank lines inside");
        }
        return text.toString();
    }

    private static byte[] render(String format, List<String> records) {
        String text = switch (format) {
            case "txt" -> String.join("\n\n", records) + "\n";
            case "jsonl" -> records.stream().map(r -> Mutator.write(MAPPER.createObjectNode().put("text", r)))
                    .collect(Collectors.joining("\n", "", "\n"));
            default -> records.stream().map(r -> Mutator.write(MAPPER.createObjectNode().put("text", r)))
                    .collect(Collectors.joining(",\n ", "[", "]\n"));
        };
        return text.getBytes(StandardCharsets.UTF_8);
    }

    private static byte[] jsonRecordMutation(Mutator m, String format, List<String> records) {
        List<String> rendered = new ArrayList<>();
        for (String record : records) {
            rendered.add(Mutator.write(MAPPER.createObjectNode().put("text", record)));
        }
        int at = m.below(rendered.size());
        ObjectNode record = MAPPER.createObjectNode().put("text", records.get(at));
        String replaced = switch (m.below(9)) {
            case 0 -> Mutator.write(MAPPER.createObjectNode().set("text", m.hostileValue()));
            case 1 -> Mutator.write(MAPPER.createObjectNode().put("txt", records.get(at)));
            case 2 -> "{\"text\": null, \"text\": \"second\"}";
            case 3 -> Mutator.write(record) + " " + Mutator.write(record);
            case 4 -> List.of("[\"text\"]", "42", "\"text\"", "null", "true", "{", "}").get(m.below(7));
            case 5 -> Mutator.write(record.set("other", Mutator.nested(m.chance(50) ? 64 : 501 + m.below(200))));
            case 6 -> Mutator.write(record.put("other", "").set("big", m.hostileNumber()));
            case 7 -> m.jsonObject(record, List.of("text", "../text", "Text"));
            default -> Mutator.write(record) + " trailing";
        };
        m.log.add("record " + at + " -> " + abbreviate(replaced));
        rendered.set(at, replaced);
        String text = format.equals("jsonl") ? String.join("\n", rendered) + "\n"
                : "[" + String.join(",\n ", rendered) + "]\n";
        return text.getBytes(StandardCharsets.UTF_8);
    }

    private static byte[] txtMutation(Mutator m, List<String> records) {
        String separator = List.of("\r\n\r\n", "\n \t\n", "\n\u000B\n", "\n\f\n", "\n\u001C\n", "\n\u2028\n",
                "\n\u00A0\n", "\r\r", "\n", "\n\n\n\n").get(m.below(10));
        String prefix = m.chance(20) ? "\uFEFF" : m.chance(10) ? "\u0000" : "";
        m.log.add("txt separator " + abbreviate(separator.chars().mapToObj(c -> String.format("%04x", c))
                .collect(Collectors.joining(" "))) + (prefix.isEmpty() ? "" : " with a leading U+" +
                String.format("%04X", (int) prefix.charAt(0))));
        return (prefix + String.join(separator, records)).getBytes(StandardCharsets.UTF_8);
    }

    private Outcome send(Input input) {
        HttpResponse<String> response;
        try {
            response = HTTP.send(HttpRequest.newBuilder(uri(input.endpoint())).timeout(REQUEST_TIMEOUT)
                    .header("Content-Type", input.form().contentType()).POST(input.form().publisher()).build(),
                    HttpResponse.BodyHandlers.ofString());
        } catch (HttpTimeoutException e) {
            return new Outcome(input.kind() + " timeout", "no answer within " + REQUEST_TIMEOUT);
        } catch (IOException e) {
            return new Outcome(input.kind() + " I/O error", "the request failed: " + e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Outcome(input.kind() + " interrupted", "interrupted");
        }
        int status = response.statusCode();
        String why = input.endpoint().equals("/checkpoints")
                ? ReferenceCheckpoint.whyInvalid(input.config(), input.file())
                : null;
        long records = input.format() == null ? 0 : ReferenceDataset.records(input.format(), input.file());
        boolean valid = input.endpoint().equals("/checkpoints") ? why == null : records >= 2;
        if (status >= 200 && status < 300) {
            String key = input.kind() + " " + status;
            if (!valid) {
                return new Outcome(key, "accepted, but the reference check says invalid: "
                        + (why != null ? why : records + " records"));
            }
            return new Outcome(key, checkAcceptedAndDelete(input, response, records));
        }
        if (status >= 400 && status < 500) {
            String type = "?";
            try {
                JsonNode problem = MAPPER.readTree(response.body());
                type = problem.path("type").asText().replace("https://consort.dev/problems/", "");
                if (problem.path("status").asInt() != status
                        || !response.headers().firstValue("Content-Type").orElse("").startsWith("application/problem+json")) {
                    return new Outcome(input.kind() + " " + status + " " + type, "not an RFC 9457 problem: " + response.body());
                }
            } catch (RuntimeException e) {
                return new Outcome(input.kind() + " " + status, "not an RFC 9457 problem: " + abbreviate(response.body()));
            }
            String key = input.kind() + " " + status + " " + type;
            return valid ? new Outcome(key, "refused, but the reference check says valid: "
                    + abbreviate(response.body())) : new Outcome(key, null);
        }
        return new Outcome(input.kind() + " " + status, "status " + status + ": " + abbreviate(response.body()));
    }

    /** Checks what an accepted upload stored, then deletes it so that storage checks stay exact. */
    private String checkAcceptedAndDelete(Input input, HttpResponse<String> response, long expectedRecords) {
        JsonNode created = MAPPER.readTree(response.body());
        String id = created.path("id").asText();
        String problem = null;
        if (input.endpoint().equals("/checkpoints")) {
            HttpResponse<byte[]> stored = getBytes("/checkpoints/" + id + "/model.safetensors");
            if (stored.statusCode() != 200 || !Arrays.equals(stored.body(), input.file())) {
                problem = "the stored weights differ from the upload";
            } else if (input.name() != null && !input.name().equals(created.path("name").asText())) {
                problem = "stored the name " + created.path("name") + ", not " + input.name();
            }
        } else {
            long records = created.path("train").path("records").asLong() + created.path("validation").path("records").asLong();
            String fileName = created.path("file_name").asText();
            if (records != expectedRecords) {
                problem = "stored " + records + " records, the reference count is " + expectedRecords;
            } else if (!fileName.equals("data." + input.format())) {
                problem = "stored the file name " + fileName + ", not its last part";
            }
        }
        HttpResponse<String> deleted = delete(input.endpoint() + "/" + id);
        if (deleted.statusCode() != 204) {
            problem = (problem == null ? "" : problem + "; ") + "delete answered " + deleted.statusCode();
        }
        return problem;
    }

    private void fail(int iteration, Mutator m, Input input, String why) {
        String description = "iteration " + iteration + " (seed " + SEED + ") " + (input == null ? "" : input.kind())
                + ": " + why + "; input: " + m.log;
        failures.add(description);
        System.out.println("FUZZ FAILURE " + description);
        if (input != null) {
            try {
                Path dir = Path.of("target", "fuzz-failures");
                Files.createDirectories(dir);
                String stem = SEED + "-" + iteration + "-" + input.kind().replace('.', '_');
                Files.write(dir.resolve(stem + (input.format() != null ? "." + input.format() : ".safetensors")),
                        input.file());
                if (input.config() != null) {
                    Files.write(dir.resolve(stem + "-config.json"), input.config());
                }
            } catch (IOException e) {
                System.out.println("could not save the input: " + e);
            }
        }
    }

    private static String abbreviate(String text) {
        return text.length() <= 300 ? text : text.substring(0, 300) + "… (" + text.length() + " chars)";
    }

    /** Rows and blob files an upload could leave behind. */
    private record Leftovers(long checkpoints, long datasets, long blobs, long blobReferences, Set<String> blobFiles) {}

    private Leftovers leftovers(Path data) throws IOException {
        return new Leftovers(
                jdbc.queryForObject("select count(*) from checkpoint", Long.class),
                jdbc.queryForObject("select count(*) from dataset", Long.class),
                jdbc.queryForObject("select count(*) from blob", Long.class),
                jdbc.queryForObject("select count(*) from blob_ref", Long.class),
                files(data.resolve("blobs").resolve("sha256")));
    }

    private static Set<String> files(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            return Set.of();
        }
        try (Stream<Path> walk = Files.walk(dir)) {
            return walk.filter(Files::isRegularFile).map(Path::toString).collect(Collectors.toSet());
        }
    }
}
