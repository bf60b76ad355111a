package dev.consort.dataset;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.InputStream;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.ShortBuffer;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.UUID;
import java.util.stream.IntStream;

import com.knuddels.jtokkit.Encodings;
import com.knuddels.jtokkit.api.Encoding;
import com.knuddels.jtokkit.api.EncodingType;
import com.knuddels.jtokkit.api.IntArrayList;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;

import tools.jackson.databind.JsonNode;

import dev.consort.support.ApiTest;
import dev.consort.support.Multipart;
import dev.consort.support.TestDatabase;

class DatasetApiTest extends ApiTest {

    @Autowired
    private DatasetTokens datasetTokens;

    /** The reference the service must agree with, used here directly. */
    private static final Encoding GPT2 = Encodings.newDefaultEncodingRegistry().getEncoding(EncodingType.R50K_BASE);

    @Test
    void jsonlWithTemplateProducesExactlyGpt2TokensSplitOnTheLastRecords() throws Exception {
        String run = UUID.randomUUID().toString();
        List<String> lines = new ArrayList<>();
        List<String> texts = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            String question = "Natalia sold clips to " + (48 + i) + " friends in " + run + ". How many? <|endoftext|>";
            String answer = "She sold " + (48 + i) + " / 2 = " + (24 + i / 2) + " clips.\n#### " + (72 + i);
            lines.add("{\"question\": " + jsonString(question) + ", \"answer\": " + jsonString(answer) + ", \"id\": " + i + "}");
            texts.add(question + "\n" + answer);
        }
        HttpResponse<String> response = post("/datasets", new Multipart()
                .file("file", "gsm8k-sample.jsonl", String.join("\n", lines).getBytes(UTF_8))
                .field("template", "{question}\\n{answer}")
                .field("val_fraction", "0.2")
                .field("name", "математика ✓ " + run));

        assertThat(response.statusCode()).as(response.body()).isEqualTo(201);
        JsonNode dataset = json(response);
        String id = dataset.path("id").asText();
        assertThat(response.headers().firstValue("Location")).hasValueSatisfying(
                location -> assertThat(location).endsWith("/datasets/" + id));
        assertThat(dataset.path("name").asText()).isEqualTo("математика ✓ " + run);
        assertThat(dataset.path("format").asText()).isEqualTo("jsonl");
        assertThat(dataset.path("template").asText()).isEqualTo("{question}\\n{answer}");
        assertThat(dataset.path("val_fraction").asDouble()).isEqualTo(0.2);
        assertThat(dataset.path("txt_mode").isNull()).isTrue();
        assertThat(dataset.path("file_name").asText()).isEqualTo("gsm8k-sample.jsonl");
        assertThat(dataset.path("source_bytes").asLong()).isEqualTo(String.join("\n", lines).getBytes(UTF_8).length);
        assertThat(dataset.path("created_at").asText()).isNotBlank();

        int[] expectedTrain = expectedTokens(texts.subList(0, 8));
        int[] expectedValidation = expectedTokens(texts.subList(8, 10));
        assertThat(expectedTrain).doesNotContain(50256 + 1).contains(50256);
        assertSplit(dataset.path("train"), 8, expectedTrain);
        assertSplit(dataset.path("validation"), 2, expectedValidation);
        assertThat(downloadTokens(id, "train")).isEqualTo(expectedTrain);
        assertThat(downloadTokens(id, "validation")).isEqualTo(expectedValidation);

        JsonNode fetched = json(get("/datasets/" + id));
        assertThat(fetched).isEqualTo(dataset);
        assertThat(jdbc.queryForList("select role from blob_ref where owner_kind = 'dataset' and owner_id = ?::uuid "
                + "order by role", String.class, id)).containsExactly("train_tokens", "val_tokens");
        assertThat(blobFile(dataset.path("train").path("sha256").asText())).exists();

        // What the engine reads: the same tokens, through the service.
        UUID datasetId = UUID.fromString(id);
        assertThat(datasetTokens.read(datasetId, Split.TRAIN)).isEqualTo(expectedTrain);
        assertThat(datasetTokens.describe(datasetId, Split.VALIDATION))
                .isEqualTo(new TokenFile(dataset.path("validation").path("sha256").asText(), expectedValidation.length));
        try (InputStream in = datasetTokens.open(datasetId, Split.VALIDATION)) {
            assertThat(in.readAllBytes()).isEqualTo(uint16(expectedValidation));
        }
    }

    /** Only the last part of a client's file name is kept, as a label; nothing is written where it points. */
    @Test
    void aFileNameWithDotDotSlashKeepsOnlyItsLastPartAndWritesNothingThere() throws Exception {
        String escape = "consort-escape-" + UUID.randomUUID() + ".txt";
        JsonNode dataset = created(post("/datasets", new Multipart()
                .file("file", "../../../../../../tmp/" + escape, "one\n\ntwo\n".getBytes(UTF_8))));
        assertThat(dataset.path("file_name").asText()).isEqualTo(escape);
        assertThat(dataset.path("name").asText()).isEqualTo(escape);
        assertThat(java.nio.file.Path.of("/tmp", escape)).doesNotExist();

        JsonNode named = created(post("/datasets", new Multipart()
                .file("file", "notes.txt", "one\n\ntwo\n".getBytes(UTF_8)).field("name", "../../" + escape)));
        assertThat(named.path("name").asText()).isEqualTo("../../" + escape);
        assertThat(named.path("file_name").asText()).isEqualTo("notes.txt");
    }

    @Test
    void txtBlocksBetweenBlankLinesAreRecords() throws Exception {
        String run = UUID.randomUUID().toString();
        String text = "\n\n = Valkyria " + run + " = \n\n  Senjō no Valkyria 3 is a game.\nIt was released in 2011.  \n"
                + "\n \t \n The game began development in 2010 . \r\n\r\n\r\n = Gameplay = \n";
        JsonNode dataset = created(post("/datasets", new Multipart()
                .file("file", "wiki.txt", text.getBytes(UTF_8))));

        List<String> blocks = List.of("= Valkyria " + run + " =",
                "Senjō no Valkyria 3 is a game.\nIt was released in 2011.",
                "The game began development in 2010 .", "= Gameplay =");
        assertThat(dataset.path("format").asText()).isEqualTo("txt");
        assertThat(dataset.path("txt_mode").asText()).isEqualTo("records");
        assertThat(dataset.path("val_fraction").asDouble()).isEqualTo(0.1);
        assertSplit(dataset.path("train"), 3, expectedTokens(blocks.subList(0, 3)));
        assertSplit(dataset.path("validation"), 1, expectedTokens(blocks.subList(3, 4)));
        assertThat(downloadTokens(dataset.path("id").asText(), "train")).isEqualTo(expectedTokens(blocks.subList(0, 3)));
    }

    @Test
    void txtWholeFileIsOneRecordAndAZeroFractionLeavesValidationEmpty() throws Exception {
        String text = "  First paragraph " + UUID.randomUUID() + ".\n\nSecond paragraph.\n\n";
        JsonNode dataset = created(post("/datasets", new Multipart()
                .file("file", "corpus.txt", text.getBytes(UTF_8))
                .field("txt_mode", "whole")
                .field("val_fraction", "0")));

        assertThat(dataset.path("txt_mode").asText()).isEqualTo("whole");
        assertSplit(dataset.path("train"), 1, expectedTokens(List.of(text.strip())));
        JsonNode validation = dataset.path("validation");
        assertThat(validation.path("records").asLong()).isZero();
        assertThat(validation.path("tokens").asLong()).isZero();
        assertThat(validation.has("sha256")).isTrue();
        assertThat(validation.path("sha256").isNull()).isTrue();
        HttpResponse<byte[]> empty = getBytes("/datasets/" + dataset.path("id").asText() + "/tokens/validation");
        assertThat(empty.statusCode()).isEqualTo(200);
        assertThat(empty.body()).isEmpty();
    }

    @Test
    void jsonArrayOfObjects() throws Exception {
        String run = UUID.randomUUID().toString();
        String json = "[\n  {\"instruction\": \"Write a loop " + run + "\", \"input\": \"\", \"output\": \"for i in range(3):\\n    print(i)\"},\n"
                + "  {\"instruction\": \"Add\", \"input\": \"2 + 2\", \"output\": 4},\n"
                + "  {\"instruction\": \"Negate\", \"input\": \"true\", \"output\": false}\n]";
        JsonNode dataset = created(post("/datasets", new Multipart()
                .file("file", "codealpaca.json", json.getBytes(UTF_8))
                .field("template", "{instruction}\\n{input}\\n{output}")
                .field("val_fraction", "0.34")));

        List<String> texts = List.of("Write a loop " + run + "\n\nfor i in range(3):\n    print(i)", "Add\n2 + 2\n4",
                "Negate\ntrue\nfalse");
        assertThat(dataset.path("format").asText()).isEqualTo("json");
        assertSplit(dataset.path("train"), 2, expectedTokens(texts.subList(0, 2)));
        assertSplit(dataset.path("validation"), 1, expectedTokens(texts.subList(2, 3)));
        assertThat(downloadTokens(dataset.path("id").asText(), "validation"))
                .isEqualTo(expectedTokens(texts.subList(2, 3)));
    }

    /**
     * A template that repeats a field within its 4,000 characters, over a long field, would render a string of
     * gigabytes on the request thread; the record is refused before it is built, naming the limit, and nothing is
     * stored.
     */
    @Test
    void aTemplateThatWouldRenderAHugeRecordIsRefusedBeforeItIsBuilt() {
        int before = jdbc.queryForObject("select count(*) from dataset", Integer.class);
        String jsonl = "{\"f\": \"" + "x".repeat(60_000) + "\"}\n";
        HttpResponse<String> response = post("/datasets", new Multipart()
                .file("file", "repeated.jsonl", jsonl.getBytes(UTF_8)).field("template", "{f}".repeat(1333)));
        assertThat(response.statusCode()).as(response.body()).isEqualTo(422);
        // 1333 × 60,000 characters.
        assertThat(response.body()).contains("invalid-dataset").contains("79980000 characters")
                .contains("limit of 67108864");
        assertThat(jdbc.queryForObject("select count(*) from dataset", Integer.class)).isEqualTo(before);
    }

    @Test
    void explicitValidationFile() throws Exception {
        String run = UUID.randomUUID().toString();
        String train = "{\"text\": \"train one " + run + "\"}\n{\"text\": \"train two\"}\n";
        String validation = "\n{\"text\": \"held out " + run + "\"}\n\n";
        JsonNode dataset = created(post("/datasets", new Multipart()
                .file("file", "train.jsonl", train.getBytes(UTF_8))
                .file("validation_file", "val.jsonl", validation.getBytes(UTF_8))));

        assertThat(dataset.path("val_fraction").isNull()).isTrue();
        assertThat(dataset.path("validation_file_name").asText()).isEqualTo("val.jsonl");
        assertThat(dataset.path("source_bytes").asLong())
                .isEqualTo(train.getBytes(UTF_8).length + validation.getBytes(UTF_8).length);
        assertSplit(dataset.path("train"), 2, expectedTokens(List.of("train one " + run, "train two")));
        assertSplit(dataset.path("validation"), 1, expectedTokens(List.of("held out " + run)));
    }

    @Test
    void tenRecordsAtAFifthLeaveTheLastTwoForValidation() throws Exception {
        String run = UUID.randomUUID().toString();
        StringBuilder text = new StringBuilder();
        List<String> records = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            records.add("record " + i + " of " + run);
            text.append(records.get(i)).append("\n\n");
        }
        JsonNode dataset = created(post("/datasets", new Multipart()
                .file("file", "ten.txt", text.toString().getBytes(UTF_8))
                .field("val_fraction", "0.2")));
        assertThat(dataset.path("train").path("records").asLong()).isEqualTo(8);
        assertThat(dataset.path("validation").path("records").asLong()).isEqualTo(2);
        assertThat(tokenizerDecode(downloadTokens(dataset.path("id").asText(), "validation")))
                .isEqualTo("record 8 of " + run + "<|endoftext|>record 9 of " + run + "<|endoftext|>");
    }

    @Test
    void listIsNewestFirstWithACursor() {
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            ids.add(created(post("/datasets", new Multipart()
                    .file("file", "list-" + i + ".txt", ("list " + i + " " + UUID.randomUUID()).getBytes(UTF_8))
                    .field("val_fraction", "0"))).path("id").asText());
        }
        JsonNode first = json(get("/datasets?limit=2"));
        assertThat(first.path("items")).hasSize(2);
        assertThat(first.path("items").get(0).path("id").asText()).isEqualTo(ids.get(2));
        assertThat(first.path("items").get(1).path("id").asText()).isEqualTo(ids.get(1));
        assertThat(first.path("has_more").asBoolean()).isTrue();
        assertThat(first.path("next_after").asText()).isEqualTo(ids.get(1));

        JsonNode second = json(get("/datasets?limit=1&after=" + ids.get(1)));
        assertThat(second.path("items").get(0).path("id").asText()).isEqualTo(ids.get(0));
        assertThat(second.path("items").get(0).path("name").asText()).isEqualTo("list-0.txt");

        JsonNode everything = json(get("/datasets?limit=500"));
        assertThat(everything.path("has_more").asBoolean()).isFalse();
        assertThat(everything.path("next_after").isMissingNode() || everything.path("next_after").isNull()).isTrue();
        List<String> listed = new ArrayList<>();
        everything.path("items").forEach(item -> listed.add(item.path("id").asText()));
        assertThat(listed).containsSubsequence(ids.get(2), ids.get(1), ids.get(0));
        assertThat(get("/datasets?limit=0").statusCode()).isEqualTo(400);
    }

    @Test
    void deleteRemovesTheRowAndTheTokenFiles() {
        JsonNode dataset = created(post("/datasets", new Multipart()
                .file("file", "gone.txt", ("to delete " + UUID.randomUUID() + "\n\nsecond").getBytes(UTF_8))));
        String id = dataset.path("id").asText();
        Path train = blobFile(dataset.path("train").path("sha256").asText());
        Path validation = blobFile(dataset.path("validation").path("sha256").asText());
        assertThat(train).exists();
        assertThat(validation).exists();

        assertThat(delete("/datasets/" + id).statusCode()).isEqualTo(204);

        assertThat(get("/datasets/" + id).statusCode()).isEqualTo(404);
        assertThat(getBytes("/datasets/" + id + "/tokens/train").statusCode()).isEqualTo(404);
        assertThat(delete("/datasets/" + id).statusCode()).isEqualTo(404);
        assertThat(train).doesNotExist();
        assertThat(validation).doesNotExist();
        assertThat(jdbc.queryForObject("select count(*) from blob_ref where owner_id = ?::uuid", Integer.class, id)).isZero();
        assertThat(jdbc.queryForObject("select count(*) from blob where sha256 = ?", Integer.class,
                dataset.path("train").path("sha256").asText())).isZero();
    }

    @Test
    void deleteIsRefusedWhileAnUnfinishedJobReadsTheDataset() {
        JsonNode dataset = created(post("/datasets", new Multipart()
                .file("file", "busy.txt", ("in use " + UUID.randomUUID()).getBytes(UTF_8))
                .field("val_fraction", "0")));
        String id = dataset.path("id").asText();
        UUID job = UUID.randomUUID();
        // A device class no test worker serves, so the job stays queued while the delete is tried.
        jdbc.update("insert into job (id, type, status, spec, device_class, max_attempts) values (?, 'finetune', 'queued', '{}'::jsonb, 'idle', 3)",
                job);
        jdbc.update("insert into job_input (job_id, input_kind, input_id) values (?, 'dataset', ?::uuid)", job, id);

        HttpResponse<String> refused = delete("/datasets/" + id);
        assertThat(refused.statusCode()).isEqualTo(409);
        JsonNode problem = json(refused);
        assertThat(problem.path("type").asText()).isEqualTo("https://consort.dev/problems/in-use");
        assertThat(problem.path("detail").asText()).contains(job.toString());
        assertThat(problem.path("errors").get(0).path("message").asText()).contains(job.toString()).contains("queued");
        assertThat(get("/datasets/" + id).statusCode()).isEqualTo(200);
        assertThat(blobFile(dataset.path("train").path("sha256").asText())).exists();

        jdbc.update("update job set status = 'succeeded' where id = ?", job);
        assertThat(delete("/datasets/" + id).statusCode()).isEqualTo(204);
    }

    @Test
    void tokensOfAnUnknownSplitOrDatasetAreNotFound() {
        String id = created(post("/datasets", new Multipart()
                .file("file", "s.txt", ("split " + UUID.randomUUID()).getBytes(UTF_8))
                .field("val_fraction", "0"))).path("id").asText();
        HttpResponse<String> unknownSplit = get("/datasets/" + id + "/tokens/test");
        assertThat(unknownSplit.statusCode()).isEqualTo(404);
        assertThat(json(unknownSplit).path("detail").asText()).contains("train or validation");
        HttpResponse<String> unknownDataset = get("/datasets/" + UUID.randomUUID() + "/tokens/train");
        assertThat(unknownDataset.statusCode()).isEqualTo(404);
        assertThat(unknownDataset.headers().firstValue("Content-Type")).hasValueSatisfying(
                type -> assertThat(type).startsWith("application/problem+json"));
        assertThat(get("/datasets/not-a-uuid").statusCode()).isEqualTo(404);
    }

    @Test
    void openApiDocumentsTheMultipartParts() {
        JsonNode api = json(get("/v3/api-docs"));
        JsonNode upload = api.path("paths").path("/datasets").path("post");
        JsonNode form = upload.path("requestBody").path("content").path("multipart/form-data").path("schema");
        JsonNode properties = form.path("properties");
        assertThat(properties.path("file").path("format").asText()).isEqualTo("binary");
        assertThat(properties.path("validation_file").path("format").asText()).isEqualTo("binary");
        for (String field : List.of("name", "format", "template", "val_fraction", "txt_mode")) {
            assertThat(properties.has(field)).as(field + " in " + form).isTrue();
        }
        assertThat(upload.path("tags").get(0).asText()).isEqualTo("Datasets");
        assertThat(api.path("paths").has("/datasets/{id}/tokens/{split}")).isTrue();
        JsonNode schema = api.path("components").path("schemas").path("Dataset").path("properties");
        assertThat(schema.has("val_fraction")).isTrue();
        assertThat(schema.has("created_at")).isTrue();
    }

    private JsonNode created(HttpResponse<String> response) {
        assertThat(response.statusCode()).as(response.body()).isEqualTo(201);
        return json(response);
    }

    /** Counts, token count and sha256 of a split agree with the tokens we expect. */
    private static void assertSplit(JsonNode split, long records, int[] tokens) throws Exception {
        assertThat(split.path("records").asLong()).isEqualTo(records);
        assertThat(split.path("tokens").asLong()).isEqualTo(tokens.length);
        assertThat(split.path("sha256").asText()).isEqualTo(sha256(uint16(tokens)));
    }

    private int[] downloadTokens(String id, String split) {
        HttpResponse<byte[]> response = getBytes("/datasets/" + id + "/tokens/" + split);
        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.headers().firstValue("Content-Type")).hasValue("application/octet-stream");
        ShortBuffer shorts = ByteBuffer.wrap(response.body()).order(ByteOrder.LITTLE_ENDIAN).asShortBuffer();
        return IntStream.range(0, shorts.limit()).map(i -> shorts.get(i) & 0xFFFF).toArray();
    }

    private static int[] expectedTokens(List<String> records) {
        IntArrayList tokens = new IntArrayList();
        for (String record : records) {
            IntArrayList encoded = GPT2.encodeOrdinary(record);
            for (int i = 0; i < encoded.size(); i++) {
                tokens.add(encoded.get(i));
            }
            tokens.add(50256);
        }
        return tokens.toArray();
    }

    private static String tokenizerDecode(int[] tokens) {
        IntArrayList list = new IntArrayList();
        for (int token : tokens) {
            list.add(token);
        }
        return GPT2.decode(list);
    }

    private static byte[] uint16(int[] tokens) {
        ByteBuffer bytes = ByteBuffer.allocate(tokens.length * 2).order(ByteOrder.LITTLE_ENDIAN);
        for (int token : tokens) {
            bytes.putShort((short) token);
        }
        return bytes.array();
    }

    private static String sha256(byte[] bytes) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    }

    static Path blobFile(String sha256) {
        return TestDatabase.dataDir().resolve("blobs").resolve("sha256").resolve(sha256.substring(0, 2)).resolve(sha256);
    }

    private static String jsonString(String text) {
        return JSON.writeValueAsString(text);
    }
}
