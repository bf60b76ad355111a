package dev.consort.fuzz;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The fuzz test's own count of the records in a dataset file read with the default template
 * {@code {text}}, from the rules the API documents: UTF-8 (a leading byte-order mark allowed); txt records
 * are the blocks between blank lines (CR LF and CR read as LF); jsonl has one JSON object per non-blank
 * line; json is one array of objects; every JSON record needs a non-null {@code text}. Whole documents
 * are parsed at once here, where the service streams them.
 */
final class ReferenceDataset {

    private static final JsonMapper JSON = JsonMapper.builder().build();

    private ReferenceDataset() {}

    /** The number of records, or -1 when the file is not a valid dataset of that format. */
    static long records(String format, byte[] file) {
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(file)).toString();
        } catch (CharacterCodingException e) {
            return -1;
        }
        if (text.startsWith("\uFEFF")) {
            text = text.substring(1);
        }
        try {
            return switch (format) {
                case "txt" -> txt(text);
                case "jsonl" -> jsonl(text);
                case "json" -> json(text);
                default -> throw new IllegalArgumentException(format);
            };
        } catch (JacksonException e) {
            return -1;
        }
    }

    private static long txt(String text) {
        long blocks = 0;
        boolean inBlock = false;
        for (String line : text.replace("\r\n", "\n").replace('\r', '\n').split("\n", -1)) {
            boolean blank = line.isBlank();
            if (!blank && !inBlock) {
                blocks++;
            }
            inBlock = !blank;
        }
        return blocks;
    }

    private static long jsonl(String text) {
        long records = 0;
        for (String line : text.split("\n", -1)) {
            if (line.isBlank()) {
                continue;
            }
            if (!hasText(JSON.readTree(line))) {
                return -1;
            }
            records++;
        }
        return records;
    }

    private static long json(String text) {
        if (text.isBlank()) {
            return 0;
        }
        JsonNode array = JSON.readTree(text);
        if (array == null || !array.isArray()) {
            return -1;
        }
        for (JsonNode record : array) {
            if (!hasText(record)) {
                return -1;
            }
        }
        return array.size();
    }

    private static boolean hasText(JsonNode record) {
        return record != null && record.isObject() && record.get("text") != null && !record.get("text").isNull();
    }
}
