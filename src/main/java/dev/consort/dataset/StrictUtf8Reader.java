package dev.consort.dataset;

import java.io.IOException;
import java.io.InputStream;
import java.io.Reader;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * Decodes UTF-8 and refuses anything else. A lenient reader would turn a malformed or truncated byte
 * sequence into U+FFFD and the dataset would quietly train on it; this one raises
 * {@link InvalidUtf8Exception} naming the line instead, after handing out every character before the
 * bad bytes. A leading byte-order mark is dropped.
 */
final class StrictUtf8Reader extends Reader {

    /** The bytes are not UTF-8; {@code line} is 1-based, {@code byteOffset} counts from the file's start. */
    static final class InvalidUtf8Exception extends IOException {
        private final long line;
        private final long byteOffset;

        InvalidUtf8Exception(long line, long byteOffset) {
            super("invalid UTF-8 at line " + line + " (byte offset " + byteOffset + ")");
            this.line = line;
            this.byteOffset = byteOffset;
        }

        long line() {
            return line;
        }

        long byteOffset() {
            return byteOffset;
        }
    }

    private static final int BUFFER = 1 << 16;

    private final InputStream in;
    private final CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
            .onMalformedInput(CodingErrorAction.REPORT)
            .onUnmappableCharacter(CodingErrorAction.REPORT);
    private final ByteBuffer bytes = ByteBuffer.allocate(BUFFER).flip();
    private final CharBuffer chars = CharBuffer.allocate(BUFFER).flip();
    /** 1 + the newlines decoded so far: the line an error in the next bytes is on. */
    private long line = 1;
    private long bytesDecoded;
    private boolean endOfInput;
    private boolean finished;
    private boolean started;
    private InvalidUtf8Exception failure;

    StrictUtf8Reader(InputStream in) {
        this.in = in;
    }

    @Override
    public int read(char[] target, int offset, int length) throws IOException {
        if (length == 0) {
            return 0;
        }
        if (!chars.hasRemaining() && !fill()) {
            return -1;
        }
        int n = Math.min(length, chars.remaining());
        chars.get(target, offset, n);
        return n;
    }

    /** Decodes the next characters into {@code chars}; false at the end of the input. */
    private boolean fill() throws IOException {
        if (failure != null) {
            throw failure;
        }
        chars.clear();
        boolean malformed = false;
        while (chars.position() == 0 && !finished) {
            if (!endOfInput && bytes.remaining() < 4) {
                readBytes();
            }
            int before = bytes.position();
            CoderResult result = decoder.decode(bytes, chars, endOfInput);
            bytesDecoded += bytes.position() - before;
            if (result.isError()) {
                malformed = true;
                break;
            }
            if (endOfInput && result.isUnderflow()) {
                decoder.flush(chars);
                finished = true;
            }
        }
        chars.flip();
        if (!started) {
            started = true;
            if (chars.hasRemaining() && chars.get(chars.position()) == '\uFEFF') {
                chars.get();
            }
        }
        long newlines = 0;
        for (int i = chars.position(); i < chars.limit(); i++) {
            if (chars.get(i) == '\n') {
                newlines++;
            }
        }
        if (malformed) {
            failure = new InvalidUtf8Exception(line + newlines, bytesDecoded);
        }
        line += newlines;
        if (!chars.hasRemaining()) {
            if (failure != null) {
                throw failure;
            }
            return false;
        }
        return true;
    }

    private void readBytes() throws IOException {
        bytes.compact();
        try {
            while (bytes.hasRemaining()) {
                int n = in.read(bytes.array(), bytes.arrayOffset() + bytes.position(), bytes.remaining());
                if (n < 0) {
                    endOfInput = true;
                    break;
                }
                bytes.position(bytes.position() + n);
                if (n > 0) {
                    break;
                }
            }
        } finally {
            bytes.flip();
        }
    }

    @Override
    public void close() throws IOException {
        in.close();
    }
}
