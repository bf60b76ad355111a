package dev.consort.dataset;

import java.io.IOException;
import java.io.Reader;

import tools.jackson.core.JsonParser;
import tools.jackson.core.JsonToken;
import tools.jackson.core.exc.JacksonIOException;
import tools.jackson.core.exc.StreamConstraintsException;
import tools.jackson.core.exc.StreamReadException;

/**
 * Records of a JSON file holding one array of objects. The array is read with the streaming parser,
 * one element at a time, so the file is never a tree in memory.
 */
final class JsonArrayRecords implements RecordReader {

    private final RecordTemplate template;

    JsonArrayRecords(RecordTemplate template) {
        this.template = template;
    }

    @Override
    public void read(DatasetSource source, RecordSink sink) throws IOException {
        try (Reader reader = source.openText(); JsonParser parser = JsonRecord.JSON.createParser(reader)) {
            JsonToken token = parser.nextToken();
            if (token == null) {
                return;
            }
            if (token != JsonToken.START_ARRAY) {
                throw source.invalid("the file is " + JsonRecord.describe(token) + ", not a JSON array of records"
                        + (token == JsonToken.START_OBJECT ? "; for one object per line use format jsonl" : ""));
            }
            long index = 0;
            while ((token = parser.nextToken()) != JsonToken.END_ARRAY) {
                int line = parser.currentTokenLocation().getLineNr();
                String where = "record [" + index + "] (line " + line + ")";
                if (token != JsonToken.START_OBJECT) {
                    throw source.invalid(where + " is " + JsonRecord.describe(token) + ", not a JSON object");
                }
                JsonRecord record = JsonRecord.read(parser, template.fields(), where);
                record.renderTo(template, source, sink);
                sink.endRecord();
                index++;
            }
            if (parser.nextToken() != null) {
                throw source.invalid("unexpected content after the array's closing ] at line "
                        + parser.currentTokenLocation().getLineNr());
            }
        } catch (StreamReadException | StreamConstraintsException e) {
            // Constraint violations (nesting, number length) are not StreamReadExceptions, but are as much the file's fault.
            throw source.invalid("not valid JSON" + (e.getLocation() == null ? "" : " at line "
                    + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr()) + ": "
                    + JsonRecord.reason(e.getOriginalMessage()));
        } catch (JacksonIOException e) {
            // The parser wraps what the reader threw, such as invalid UTF-8.
            throw e.getCause();
        }
    }
}
