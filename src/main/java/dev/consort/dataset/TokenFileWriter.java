package dev.consort.dataset;

import java.io.Closeable;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

import dev.consort.storage.StorageUnavailableException;

/**
 * Tokenizes records into a token file: each record's GPT-2 tokens followed by {@code <|endoftext|>},
 * as unsigned 16-bit little-endian integers (every GPT-2 token id fits). Tokens go straight to
 * disk through a small buffer; the file is never an array in memory.
 */
final class TokenFileWriter implements RecordSink, Closeable {

    private final OutputStream out;
    private final byte[] buffer = new byte[1 << 16];
    private final Gpt2Tokenizer.Encoder encoder;
    private int buffered;
    private long records;
    private long tokens;

    TokenFileWriter(Path file, Gpt2Tokenizer tokenizer) throws IOException {
        try {
            this.out = Files.newOutputStream(file);
        } catch (IOException e) {
            throw new StorageUnavailableException("cannot write a token file", e);
        }
        this.encoder = tokenizer.encoder(this::write);
    }

    @Override
    public void text(CharSequence piece) throws IOException {
        try {
            encoder.append(piece);
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
    }

    @Override
    public void endRecord() throws IOException {
        try {
            encoder.finish();
            write(Gpt2Tokenizer.END_OF_TEXT);
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
        records++;
    }

    long records() {
        return records;
    }

    long tokens() {
        return tokens;
    }

    private void write(int token) {
        if (token < 0 || token > 0xFFFF) {
            throw new IllegalStateException("token " + token + " does not fit in 16 bits");
        }
        if (buffered == buffer.length) {
            flushBuffer();
        }
        buffer[buffered++] = (byte) token;
        buffer[buffered++] = (byte) (token >>> 8);
        tokens++;
    }

    /** The token file is the service's own disk: failing to write it is never the upload's fault. */
    private void flushBuffer() {
        try {
            if (buffered > 0) {
                out.write(buffer, 0, buffered);
                buffered = 0;
            }
            out.flush();
        } catch (IOException e) {
            throw new StorageUnavailableException("cannot write a token file", e);
        }
    }

    /** Writes what is buffered and closes the file. */
    @Override
    public void close() {
        try (out) {
            flushBuffer();
        } catch (IOException e) {
            throw new StorageUnavailableException("cannot write a token file", e);
        }
    }
}
