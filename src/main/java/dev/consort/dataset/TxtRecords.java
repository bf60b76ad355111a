package dev.consort.dataset;

import java.io.IOException;
import java.io.Reader;

/**
 * Records of a text file: the blocks between blank lines, each stripped, empty ones dropped
 * ({@link TxtMode#RECORDS}), or the whole file stripped ({@link TxtMode#WHOLE}). Line endings are
 * read as Python reads text ({@code \r\n} and {@code \r} become {@code \n}), so a file saved on
 * Windows tokenizes as the same text.
 *
 * <p>The file is streamed character by character and a record goes out in pieces, so neither a
 * huge block nor a whole-file record is ever held: only a run of whitespace is, until the next
 * visible character says whether it ends the record.
 */
final class TxtRecords implements RecordReader {

    private static final int PIECE = 8192;

    private final TxtMode mode;
    private final RecordTemplate.Wrapping wrapping;

    /** @param wrapping the template's text around {@code {text}}, the only field a text record has */
    TxtRecords(TxtMode mode, RecordTemplate.Wrapping wrapping) {
        if (wrapping == null) {
            throw new IllegalArgumentException("a text file's template must use {text} once and no other field");
        }
        this.mode = mode;
        this.wrapping = wrapping;
    }

    @Override
    public void read(DatasetSource source, RecordSink sink) throws IOException {
        try (Reader reader = source.openText()) {
            char[] buffer = new char[PIECE];
            StringBuilder text = new StringBuilder(PIECE + 64);
            // Whitespace since the record's last visible character: inner if more text follows, else stripped.
            StringBuilder space = new StringBuilder();
            int newlinesInSpace = 0;
            boolean inRecord = false;
            boolean afterCarriageReturn = false;
            int n;
            while ((n = reader.read(buffer)) >= 0) {
                for (int i = 0; i < n; i++) {
                    char c = buffer[i];
                    if (c == '\n' && afterCarriageReturn) {
                        afterCarriageReturn = false;
                        continue;
                    }
                    afterCarriageReturn = c == '\r';
                    if (c == '\r') {
                        c = '\n';
                    }
                    if (Character.isWhitespace(c)) {
                        if (inRecord) {
                            space.append(c);
                            if (c == '\n') {
                                newlinesInSpace++;
                            }
                        }
                        continue;
                    }
                    // Two newlines with only whitespace between them make a blank line: the block ended.
                    if (inRecord && mode == TxtMode.RECORDS && newlinesInSpace >= 2) {
                        endRecord(sink, text);
                        inRecord = false;
                    }
                    if (!inRecord) {
                        inRecord = true;
                        text.append(wrapping.prefix());
                    } else {
                        text.append(space);
                    }
                    space.setLength(0);
                    newlinesInSpace = 0;
                    text.append(c);
                    if (text.length() >= PIECE) {
                        sink.text(text);
                        text.setLength(0);
                    }
                }
            }
            if (inRecord) {
                endRecord(sink, text);
            }
        }
    }

    private void endRecord(RecordSink sink, StringBuilder text) throws IOException {
        text.append(wrapping.suffix());
        sink.text(text);
        text.setLength(0);
        sink.endRecord();
    }
}
