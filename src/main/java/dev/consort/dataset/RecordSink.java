package dev.consort.dataset;

import java.io.IOException;

/**
 * Where a {@link RecordReader} delivers records: each record's text in one or more pieces, then
 * {@link #endRecord()}. A piece is only valid during the call (readers reuse their buffers).
 */
interface RecordSink {

    void text(CharSequence piece) throws IOException;

    void endRecord() throws IOException;

    /** Counts records and ignores their text: the checking pass. */
    final class Counter implements RecordSink {
        private long records;

        @Override
        public void text(CharSequence piece) {
            // only the count matters
        }

        @Override
        public void endRecord() {
            records++;
        }

        long records() {
            return records;
        }
    }

    /** Sends the first {@code firstRecords} records to one sink and the rest to the other: the validation split. */
    final class Splitter implements RecordSink {
        private final long firstRecords;
        private final RecordSink first;
        private final RecordSink rest;
        private long seen;

        Splitter(long firstRecords, RecordSink first, RecordSink rest) {
            this.firstRecords = firstRecords;
            this.first = first;
            this.rest = rest;
        }

        @Override
        public void text(CharSequence piece) throws IOException {
            current().text(piece);
        }

        @Override
        public void endRecord() throws IOException {
            current().endRecord();
            seen++;
        }

        private RecordSink current() {
            return seen < firstRecords ? first : rest;
        }
    }
}
