package dev.consort.dataset;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.Reader;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import dev.consort.web.ApiProblem;
import dev.consort.web.ProblemType;

/** Reading records out of files, without the web layer. */
class DatasetRecordsTest {

    @Test
    void templateInterpretsEscapesAndBraces() {
        RecordTemplate template = RecordTemplate.parse("Q: {question}\\nA:\\t{answer} {{literal}} \\\\n \\d");
        assertThat(template.fields()).containsExactly("question", "answer");
        assertThat(rendered(template, Map.of("question", "why?", "answer", "because")))
                .isEqualTo("Q: why?\nA:\tbecause {literal} \\n \\d");
    }

    private static String rendered(RecordTemplate template, Map<String, String> values) {
        StringBuilder text = new StringBuilder();
        try {
            template.renderTo(values, new RecordSink() {
                @Override
                public void text(CharSequence piece) {
                    text.append(piece);
                }

                @Override
                public void endRecord() {
                }
            });
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        return text.toString();
    }

    /** A template repeating a long field reaches the tokenizer one part at a time, never as one long string. */
    @Test
    void aTemplateRepeatingALongFieldIsRenderedInPiecesNeverWhole() throws java.io.IOException {
        RecordTemplate template = RecordTemplate.parse("{f}|".repeat(1000));
        String field = "x".repeat(10_000);
        long[] total = new long[1];
        int[] longest = new int[1];
        template.renderTo(Map.of("f", field), new RecordSink() {
            @Override
            public void text(CharSequence piece) {
                total[0] += piece.length();
                longest[0] = Math.max(longest[0], piece.length());
            }

            @Override
            public void endRecord() {
            }
        });
        assertThat(total[0]).isEqualTo(template.renderedLength(Map.of("f", field))).isEqualTo(10_001_000L);
        assertThat(longest[0]).isEqualTo(10_000);
    }

    @Test
    void templateMistakesAreExplained() {
        assertThatThrownBy(() -> RecordTemplate.parse("{question")).hasMessageContaining("not closed");
        assertThatThrownBy(() -> RecordTemplate.parse("a } b {text}")).hasMessageContaining("}}");
        assertThatThrownBy(() -> RecordTemplate.parse("{}")).hasMessageContaining("names no field");
        assertThatThrownBy(() -> RecordTemplate.parse("no fields {{at}} all")).hasMessageContaining("uses no field");
    }

    @Test
    void templateWrappingOfTheTextField() {
        assertThat(RecordTemplate.parse("<s>{text}</s>").wrappingOnly("text"))
                .isEqualTo(new RecordTemplate.Wrapping("<s>", "</s>"));
        assertThat(RecordTemplate.parse("{text} {text}").wrappingOnly("text")).isNull();
        assertThat(RecordTemplate.parse("{text} {other}").wrappingOnly("text")).isNull();
    }

    @Test
    void txtRecordsAreStrippedBlocksBetweenBlankLines() throws IOException {
        String text = "\n\n  first line\nsecond line  \n\n \t \n\nthird\r\nblock\r\n\r\n\n\n   \nlast";
        assertThat(records(DatasetFormat.TXT, "{text}", TxtMode.RECORDS, text))
                .containsExactly("first line\nsecond line", "third\nblock", "last");
    }

    @Test
    void txtWholeFileIsOneStrippedRecordWithUnixLineEnds() throws IOException {
        assertThat(records(DatasetFormat.TXT, "[{text}]", TxtMode.WHOLE, "\n  a\r\n\r\nb\rc  \n\n"))
                .containsExactly("[a\n\nb\nc]");
    }

    @Test
    void txtBlankFileHasNoRecords() throws IOException {
        assertThat(records(DatasetFormat.TXT, "{text}", TxtMode.RECORDS, " \n\t\r\n ")).isEmpty();
        assertThat(records(DatasetFormat.TXT, "{text}", TxtMode.WHOLE, "")).isEmpty();
    }

    @Test
    void txtRecordLargerThanAnyBufferArrivesWhole() throws IOException {
        String big = "word ".repeat(50_000).strip();
        assertThat(records(DatasetFormat.TXT, "{text}", TxtMode.WHOLE, big)).containsExactly(big);
    }

    @Test
    void jsonlFieldsAreRenderedAsWritten() throws IOException {
        String jsonl = """
                {"q": "one", "n": 1.50, "b": true, "o": {"x": [1, 2]}, "skip": {"deep": [1, {"a": 2}]}}

                {"q": "two\\nlines", "n": -3e2, "b": false, "o": []}
                """;
        assertThat(records(DatasetFormat.JSONL, "{q}|{n}|{b}|{o}", null, jsonl))
                .containsExactly("one|1.50|true|{\"x\":[1,2]}", "two\nlines|-3e2|false|[]");
    }

    @Test
    void jsonlMissingFieldNamesTheLine() {
        String jsonl = "{\"question\": \"a\", \"answer\": \"b\"}\n\n{\"question\": \"c\"}\n";
        assertThatThrownBy(() -> records(DatasetFormat.JSONL, "{question}\\n{answer}", null, jsonl))
                .isInstanceOfSatisfying(ApiProblem.class, problem -> {
                    assertThat(problem.type()).isEqualTo(ProblemType.INVALID_DATASET);
                    assertThat(problem.getMessage()).contains("line 3").contains("\"answer\"").contains("missing");
                });
    }

    @Test
    void jsonlNullFieldIsCalledNull() {
        assertThatThrownBy(() -> records(DatasetFormat.JSONL, "{text}", null, "{\"text\": null}"))
                .hasMessageContaining("line 1").hasMessageContaining("is null");
    }

    @Test
    void jsonlLinesThatAreNotObjectsAreNamed() {
        assertThatThrownBy(() -> records(DatasetFormat.JSONL, "{text}", null, "{\"text\": \"a\"}\n[1, 2]\n"))
                .hasMessageContaining("line 2 is a JSON array, not a JSON object");
        assertThatThrownBy(() -> records(DatasetFormat.JSONL, "{text}", null, "{\"text\": \"a\"}\n{\"text\": \n"))
                .hasMessageContaining("line 2 is not valid JSON");
        assertThatThrownBy(() -> records(DatasetFormat.JSONL, "{text}", null, "{\"text\": \"a\"} {\"text\": \"b\"}"))
                .hasMessageContaining("line 1 holds more than one JSON value");
    }

    @Test
    void jsonArrayIsStreamedElementByElement() throws IOException {
        String json = "[\n {\"instruction\": \"i1\", \"input\": \"\", \"output\": \"o1\"},\n"
                + " {\"instruction\": \"i2\", \"input\": \"x\", \"output\": \"o2\"}\n]\n";
        assertThat(records(DatasetFormat.JSON, "{instruction}\\n{input}\\n{output}", null, json))
                .containsExactly("i1\n\no1", "i2\nx\no2");
        assertThat(records(DatasetFormat.JSON, "{text}", null, " [ ] ")).isEmpty();
        assertThat(records(DatasetFormat.JSON, "{text}", null, "")).isEmpty();
    }

    @Test
    void jsonArrayProblemsNameTheRecordAndLine() {
        assertThatThrownBy(() -> records(DatasetFormat.JSON, "{text}", null, "[{\"text\": \"a\"},\n \"b\"]"))
                .hasMessageContaining("record [1] (line 2) is a string, not a JSON object");
        assertThatThrownBy(() -> records(DatasetFormat.JSON, "{text}", null, "[{\"text\": \"a\"},\n{\"txt\": \"b\"}]"))
                .hasMessageContaining("record [1] (line 2): field \"text\"");
        assertThatThrownBy(() -> records(DatasetFormat.JSON, "{text}", null, "[{\"text\": \"a\"},\n{\"text\": \"b"))
                .hasMessageContaining("not valid JSON at line 2");
        assertThatThrownBy(() -> records(DatasetFormat.JSON, "{text}", null, "{\"text\": \"a\"}"))
                .hasMessageContaining("not a JSON array").hasMessageContaining("jsonl");
        assertThatThrownBy(() -> records(DatasetFormat.JSON, "{text}", null, "[{\"text\": \"a\"}] [ ]"))
                .hasMessageContaining("after the array");
    }

    @Test
    void invalidUtf8IsRefusedWithItsLine() {
        byte[] badByte = {(byte) 0xC3};
        Map<DatasetFormat, byte[]> files = Map.of(
                DatasetFormat.TXT, concat("fine\n\ncaf".getBytes(UTF_8), badByte),
                DatasetFormat.JSONL, concat("{\"text\": \"fine\"}\n{\"text\": \"caf".getBytes(UTF_8), badByte,
                        "\"}\n".getBytes(UTF_8)),
                DatasetFormat.JSON, concat("[{\"text\": \"fine\"},\n{\"text\": \"caf".getBytes(UTF_8), badByte,
                        "\"}]".getBytes(UTF_8)));
        files.forEach((format, bytes) -> assertThatThrownBy(
                () -> records(format, "{text}", format == DatasetFormat.TXT ? TxtMode.RECORDS : null, bytes))
                .as(format.wireName())
                .isInstanceOfSatisfying(StrictUtf8Reader.InvalidUtf8Exception.class, e -> {
                    assertThat(e.line()).isEqualTo(format == DatasetFormat.TXT ? 3 : 2);
                }));
    }

    @Test
    void strictReaderDropsTheByteOrderMarkAndRefusesTruncatedSequences() throws IOException {
        byte[] bom = {(byte) 0xEF, (byte) 0xBB, (byte) 0xBF};
        assertThat(read(concat(bom, "héllo".getBytes(UTF_8)))).isEqualTo("héllo");
        byte[] euro = "€".getBytes(UTF_8);
        byte[] truncated = concat("ok\n\n".getBytes(UTF_8), new byte[] {euro[0], euro[1]});
        assertThatThrownBy(() -> read(truncated)).isInstanceOfSatisfying(StrictUtf8Reader.InvalidUtf8Exception.class,
                e -> {
                    assertThat(e.line()).isEqualTo(3);
                    assertThat(e.byteOffset()).isEqualTo(4);
                });
        byte[] encodedSurrogate = {(byte) 0xED, (byte) 0xA0, (byte) 0x80};
        assertThatThrownBy(() -> read(encodedSurrogate)).isInstanceOf(StrictUtf8Reader.InvalidUtf8Exception.class);
    }

    @Test
    void strictReaderHandlesMultibyteCharactersAcrossItsBuffers() throws IOException {
        String text = "日本語😀\n".repeat(30_000);
        assertThat(read(text.getBytes(UTF_8))).isEqualTo(text);
    }

    @Test
    void validationSplitTakesAtLeastOneAndNeverAll() {
        assertThat(DatasetService.validationRecords(10, 0.2)).isEqualTo(2);
        assertThat(DatasetService.validationRecords(10, 0)).isZero();
        assertThat(DatasetService.validationRecords(10, 0.01)).isEqualTo(1);
        assertThat(DatasetService.validationRecords(10, 0.99)).isEqualTo(9);
        assertThat(DatasetService.validationRecords(2, 0.1)).isEqualTo(1);
        assertThat(DatasetService.validationRecords(1, 0)).isZero();
        assertThatThrownBy(() -> DatasetService.validationRecords(1, 0.1)).hasMessageContaining("only 1 record");
    }

    private static List<String> records(DatasetFormat format, String template, TxtMode mode, String content)
            throws IOException {
        return records(format, template, mode, content.getBytes(UTF_8));
    }

    private static List<String> records(DatasetFormat format, String template, TxtMode mode, byte[] content)
            throws IOException {
        DatasetSource source = new DatasetSource("file", "data", content.length,
                () -> new ByteArrayInputStream(content));
        List<String> records = new ArrayList<>();
        StringBuilder current = new StringBuilder();
        RecordReader.of(format, RecordTemplate.parse(template), mode).read(source, new RecordSink() {
            @Override
            public void text(CharSequence piece) {
                current.append(piece);
            }

            @Override
            public void endRecord() {
                records.add(current.toString());
                current.setLength(0);
            }
        });
        return records;
    }

    private static String read(byte[] bytes) throws IOException {
        try (Reader reader = new StrictUtf8Reader(new ByteArrayInputStream(bytes))) {
            StringBuilder text = new StringBuilder();
            char[] buffer = new char[1000];
            int n;
            while ((n = reader.read(buffer)) >= 0) {
                text.append(buffer, 0, n);
            }
            return text.toString();
        }
    }

    private static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] part : parts) {
            out.writeBytes(part);
        }
        return out.toByteArray();
    }
}
