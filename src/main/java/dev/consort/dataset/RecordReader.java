package dev.consort.dataset;

import java.io.IOException;

/**
 * Streams the records of one file, in file order, into a sink. Content that cannot be read as
 * records is an {@link dev.consort.web.ApiProblem} naming the line or record; bytes that are not
 * UTF-8 surface as {@link StrictUtf8Reader.InvalidUtf8Exception}.
 */
interface RecordReader {

    void read(DatasetSource source, RecordSink sink) throws IOException;

    static RecordReader of(DatasetFormat format, RecordTemplate template, TxtMode txtMode) {
        return switch (format) {
            case TXT -> new TxtRecords(txtMode, template.wrappingOnly(RecordTemplate.TEXT_FIELD));
            case JSONL -> new JsonlRecords(template);
            case JSON -> new JsonArrayRecords(template);
        };
    }
}
