package dev.consort.dataset;

import java.io.IOException;
import java.io.Reader;

import tools.jackson.core.JsonParser;
import tools.jackson.core.JsonToken;
import tools.jackson.core.exc.StreamConstraintsException;
import tools.jackson.core.exc.StreamReadException;

/** Records of a JSON Lines file: one JSON object per line; blank lines are skipped. */
final class JsonlRecords implements RecordReader {

    /** A line longer than this is refused rather than held: no sane training record is that long. */
    static final int MAX_LINE_CHARS = 64 * 1024 * 1024;

    private final RecordTemplate template;

    JsonlRecords(RecordTemplate template) {
        this.template = template;
    }

    @Override
    public void read(DatasetSource source, RecordSink sink) throws IOException {
        try (Reader reader = source.openText()) {
            char[] buffer = new char[8192];
            StringBuilder line = new StringBuilder();
            long lineNumber = 1;
            int n;
            while ((n = reader.read(buffer)) >= 0) {
                int start = 0;
                for (int i = 0; i < n; i++) {
                    if (buffer[i] == '\n') {
                        append(line, buffer, start, i, lineNumber, source);
                        record(line, lineNumber, source, sink);
                        line.setLength(0);
                        lineNumber++;
                        start = i + 1;
                    }
                }
                append(line, buffer, start, n, lineNumber, source);
            }
            record(line, lineNumber, source, sink);
        }
    }

    private static void append(StringBuilder line, char[] buffer, int from, int to, long lineNumber,
            DatasetSource source) {
        if (line.length() + (to - from) > MAX_LINE_CHARS) {
            throw source.invalid("line " + lineNumber + " is longer than " + MAX_LINE_CHARS
                    + " characters; is the file really JSON Lines?");
        }
        line.append(buffer, from, to - from);
    }

    private void record(CharSequence line, long lineNumber, DatasetSource source, RecordSink sink) throws IOException {
        String text = line.toString();
        if (text.isBlank()) {
            return;
        }
        String where = "line " + lineNumber;
        JsonRecord record;
        try (JsonParser parser = JsonRecord.JSON.createParser(text)) {
            JsonToken first = parser.nextToken();
            if (first != JsonToken.START_OBJECT) {
                throw source.invalid(where + " is " + JsonRecord.describe(first) + ", not a JSON object");
            }
            record = JsonRecord.read(parser, template.fields(), where);
            if (parser.nextToken() != null) {
                throw source.invalid(where + " holds more than one JSON value; JSON Lines has one object per line");
            }
        } catch (StreamReadException | StreamConstraintsException e) {
            // Constraint violations (nesting, number length) are not StreamReadExceptions, but are as much the file's fault.
            throw source.invalid(where + " is not valid JSON"
                    + (e.getLocation() == null ? "" : " (column " + e.getLocation().getColumnNr() + ")") + ": "
                    + JsonRecord.reason(e.getOriginalMessage()));
        }
        record.renderTo(template, source, sink);
        sink.endRecord();
    }
}
