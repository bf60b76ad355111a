package dev.consort.dataset;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import tools.jackson.databind.JsonNode;

import dev.consort.support.ApiTest;
import dev.consort.support.Multipart;
import dev.consort.support.TestDatabase;

/** Every bad upload is a clear problem and leaves nothing behind: no row, no blob, no file. */
class DatasetRejectionTest extends ApiTest {

    private static final String INVALID_DATASET = "invalid-dataset";
    private static final String VALIDATION_FAILED = "validation-failed";
    private static final String BAD_REQUEST = "bad-request";

    static Stream<Arguments> badUploads() {
        String ok = "{\"question\": \"q\", \"answer\": \"a\"}\n";
        return Stream.of(
                bad("missing template field names the line",
                        form().file("file", "d.jsonl", bytes(ok + "\n{\"question\": \"q2\"}\n"))
                                .field("template", "{question}\\n{answer}"),
                        422, INVALID_DATASET, "file", "line 3", "\"answer\"", "missing"),
                bad("null template field",
                        form().file("file", "d.jsonl", bytes(ok + "{\"question\": \"q2\", \"answer\": null}"))
                                .field("template", "{question}\\n{answer}"),
                        422, INVALID_DATASET, "file", "line 2", "\"answer\"", "null"),
                bad("jsonl line that is not an object",
                        form().file("file", "d.jsonl", bytes("{\"text\": \"a\"}\n[\"b\"]\n")),
                        422, INVALID_DATASET, "file", "line 2", "not a JSON object"),
                bad("jsonl line that is not JSON",
                        form().file("file", "d.jsonl", bytes("{\"text\": \"a\"}\nplain text\n")),
                        422, INVALID_DATASET, "file", "line 2", "not valid JSON"),
                bad("truncated JSON array",
                        form().file("file", "d.json", bytes("[{\"text\": \"a\"},\n {\"text\": \"b\"")),
                        422, INVALID_DATASET, "file", "not valid JSON at line 2", "end-of-input"),
                bad("JSON array element that is not an object",
                        form().file("file", "d.json", bytes("[{\"text\": \"a\"},\n 42]")),
                        422, INVALID_DATASET, "file", "record [1] (line 2)", "not a JSON object"),
                bad("invalid UTF-8",
                        form().file("file", "d.txt", concat(bytes("fine\n\ncaf"), new byte[] {(byte) 0xE9}, bytes("\n"))),
                        422, INVALID_DATASET, "file", "invalid UTF-8", "line 3"),
                bad("empty file",
                        form().file("file", "d.jsonl", new byte[0]),
                        422, INVALID_DATASET, "file", "no records"),
                bad("only blank lines",
                        form().file("file", "d.txt", bytes("\n \n\t\n\r\n")),
                        422, INVALID_DATASET, "file", "no records", "whitespace"),
                bad("empty JSON array",
                        form().file("file", "d.json", bytes("[ ]")),
                        422, INVALID_DATASET, "file", "no records"),
                bad("one record cannot be split",
                        form().file("file", "d.txt", bytes("just one record")),
                        422, INVALID_DATASET, "val_fraction", "only 1 record", "val_fraction=0"),
                bad("unknown extension",
                        form().file("file", "d.csv", bytes("a,b\n1,2\n")),
                        422, VALIDATION_FAILED, "format", "d.csv"),
                bad("unknown format",
                        form().file("file", "d.txt", bytes("text")).field("format", "xml"),
                        422, VALIDATION_FAILED, "format", "txt, jsonl or json", "xml"),
                bad("val_fraction above range",
                        form().file("file", "d.txt", bytes("a\n\nb")).field("val_fraction", "1.5"),
                        422, VALIDATION_FAILED, "val_fraction", "1.5"),
                bad("val_fraction of one",
                        form().file("file", "d.txt", bytes("a\n\nb")).field("val_fraction", "1"),
                        422, VALIDATION_FAILED, "val_fraction", "below 1"),
                bad("negative val_fraction",
                        form().file("file", "d.txt", bytes("a\n\nb")).field("val_fraction", "-0.1"),
                        422, VALIDATION_FAILED, "val_fraction", "-0.1"),
                bad("val_fraction that is not a number",
                        form().file("file", "d.txt", bytes("a\n\nb")).field("val_fraction", "abc"),
                        422, VALIDATION_FAILED, "val_fraction", "\"abc\""),
                bad("val_fraction with validation_file",
                        form().file("file", "d.txt", bytes("a\n\nb")).file("validation_file", "v.txt", bytes("c"))
                                .field("val_fraction", "0.2"),
                        422, VALIDATION_FAILED, "val_fraction", "validation_file"),
                bad("bad validation_file content",
                        form().file("file", "d.jsonl", bytes("{\"text\": \"a\"}")).file("validation_file", "v.jsonl",
                                bytes("{\"text\": \"b\"}\n{\"txt\": \"c\"}")),
                        422, INVALID_DATASET, "validation_file", "line 2", "\"text\""),
                bad("empty validation_file",
                        form().file("file", "d.jsonl", bytes("{\"text\": \"a\"}")).file("validation_file", "v.jsonl",
                                bytes("\n\n")),
                        422, INVALID_DATASET, "validation_file", "no records"),
                bad("template with an unclosed brace",
                        form().file("file", "d.jsonl", bytes(ok)).field("template", "{question\\n{answer}"),
                        422, VALIDATION_FAILED, "template", "not closed"),
                bad("txt template naming another field",
                        form().file("file", "d.txt", bytes("a\n\nb")).field("template", "{question}"),
                        422, VALIDATION_FAILED, "template", "{text}"),
                bad("txt_mode for a JSON file",
                        form().file("file", "d.jsonl", bytes(ok)).field("txt_mode", "whole"),
                        422, VALIDATION_FAILED, "txt_mode", "only to txt"),
                bad("unknown txt_mode",
                        form().file("file", "d.txt", bytes("a\n\nb")).field("txt_mode", "lines"),
                        422, VALIDATION_FAILED, "txt_mode", "records or whole"),
                bad("name too long",
                        form().file("file", "d.txt", bytes("a\n\nb")).field("name", "n".repeat(201)),
                        422, VALIDATION_FAILED, "name", "200"),
                bad("missing file part",
                        form().field("name", "no file").field("val_fraction", "0.1"),
                        400, BAD_REQUEST, "file", "required"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badUploads")
    void badUploadIsAProblemAndLeavesNothingBehind(String description, Multipart form, int status, String type,
            String field, List<String> fragments) throws IOException {
        Traces before = traces();

        HttpResponse<String> response = post("/datasets", form);

        assertThat(response.statusCode()).as(response.body()).isEqualTo(status);
        assertThat(response.headers().firstValue("Content-Type")).hasValueSatisfying(
                contentType -> assertThat(contentType).startsWith("application/problem+json"));
        JsonNode problem = json(response);
        assertThat(problem.path("type").asText()).isEqualTo("https://consort.dev/problems/" + type);
        assertThat(problem.path("status").asInt()).isEqualTo(status);
        assertThat(problem.path("detail").asText()).contains(fragments);
        assertThat(problem.path("errors").get(0).path("field").asText()).isEqualTo(field);
        assertThat(traces()).isEqualTo(before);
    }

    /** What an upload could leave behind. */
    private record Traces(long datasets, long blobs, long blobReferences, Set<String> blobFiles, Set<String> stagingFiles,
            Set<String> tempFiles) {}

    private Traces traces() throws IOException {
        Path data = TestDatabase.dataDir();
        return new Traces(
                jdbc.queryForObject("select count(*) from dataset", Long.class),
                jdbc.queryForObject("select count(*) from blob", Long.class),
                jdbc.queryForObject("select count(*) from blob_ref", Long.class),
                files(data.resolve("blobs").resolve("sha256")),
                files(data.resolve("blobs").resolve("staging")),
                files(data.resolve("tmp")));
    }

    private static Set<String> files(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            return Set.of();
        }
        try (Stream<Path> walk = Files.walk(dir)) {
            return walk.filter(Files::isRegularFile).map(Path::toString).collect(Collectors.toSet());
        }
    }

    private static Arguments bad(String description, Multipart form, int status, String type, String field,
            String... fragments) {
        return Arguments.of(description, form, status, type, field, List.of(fragments));
    }

    private static Multipart form() {
        return new Multipart();
    }

    private static byte[] bytes(String text) {
        return text.getBytes(UTF_8);
    }

    private static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] part : parts) {
            out.writeBytes(part);
        }
        return out.toByteArray();
    }
}
