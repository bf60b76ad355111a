package dev.consort.dataset;

import java.io.IOException;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;

import tools.jackson.core.JsonParser;
import tools.jackson.core.JsonToken;
import tools.jackson.databind.json.JsonMapper;

/**
 * The top-level fields of one JSON record that a template reads, as text: strings as they are,
 * numbers and booleans as written in the file, nested objects and arrays as compact JSON. A JSON
 * null is kept as a null value, so the 422 can tell "null" from "missing". Fields the template does
 * not read are skipped unparsed.
 *
 * @param where where the record sits in its file ({@code line 12}, {@code record [3] (line 12)})
 */
record JsonRecord(Map<String, String> fields, String where) {

    /** Parsers of uploaded JSON: trees only for nested values a template happens to read. */
    static final JsonMapper JSON = JsonMapper.builder().build();

    /** Reads the object whose {@link JsonToken#START_OBJECT} is the parser's current token. */
    static JsonRecord read(JsonParser parser, Set<String> wanted, String where) {
        Map<String, String> fields = new HashMap<>();
        String name;
        while ((name = parser.nextName()) != null) {
            JsonToken value = parser.nextToken();
            if (!wanted.contains(name)) {
                parser.skipChildren();
                continue;
            }
            fields.put(name, switch (value) {
                case VALUE_NULL -> null;
                case START_OBJECT, START_ARRAY -> parser.readValueAsTree().toString();
                default -> parser.getString();
            });
        }
        return new JsonRecord(fields, where);
    }

    /** Sends the record's text to {@code sink}, or throws a 422 naming the template field that is missing or null. */
    void renderTo(RecordTemplate template, DatasetSource source, RecordSink sink) throws IOException {
        String missing = template.firstMissing(fields);
        if (missing != null) {
            throw source.invalid(where + ": field \"" + missing + "\", used by the template, is "
                    + (fields.containsKey(missing) ? "null" : "missing"));
        }
        long length = template.renderedLength(fields);
        if (length > RecordTemplate.MAX_RENDERED_LENGTH) {
            throw source.invalid(where + ": the template makes this record " + length + " characters long, over the "
                    + "limit of " + RecordTemplate.MAX_RENDERED_LENGTH + " per record");
        }
        template.renderTo(fields, sink);
    }

    /** What a JSON value that should have been a record is, for a 422. */
    static String describe(JsonToken token) {
        if (token == null) {
            return "empty";
        }
        return switch (token) {
            case START_OBJECT -> "a JSON object";
            case START_ARRAY -> "a JSON array";
            case VALUE_STRING -> "a string";
            case VALUE_NUMBER_INT, VALUE_NUMBER_FLOAT -> "a number";
            case VALUE_TRUE, VALUE_FALSE -> "a boolean";
            case VALUE_NULL -> "null";
            default -> token.name();
        };
    }

    /** What Jackson says is wrong, without its second-hand source locations (the 422 names the line itself). */
    static String reason(String jacksonMessage) {
        if (jacksonMessage == null) {
            return "unreadable";
        }
        String reason = jacksonMessage;
        for (String noise : new String[] {"\n", " (start marker at"}) {
            int at = reason.indexOf(noise);
            if (at >= 0) {
                reason = reason.substring(0, at);
            }
        }
        return reason;
    }
}
