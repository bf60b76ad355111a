package dev.consort.engine;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * A dataset's tokens: a uint16 little-endian token file (how Consort stores tokenized datasets),
 * memory-mapped, or an {@code int[]} for tests. Immutable and safe to share between threads.
 */
public final class TokenSequence {

    /** Files are mapped in segments of this many bytes (a multiple of 2, so no token straddles two). */
    private static final long SEGMENT_BYTES = 1L << 30;

    private final ByteBuffer[] segments;
    private final int[] tokens;
    private final long length;
    private volatile int maxToken = -1;

    private TokenSequence(ByteBuffer[] segments, int[] tokens, long length) {
        this.segments = segments;
        this.tokens = tokens;
        this.length = length;
    }

    /** Maps a uint16 little-endian token file; an odd byte count is rejected. */
    public static TokenSequence open(Path file) throws IOException {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            long bytes = channel.size();
            if (bytes % 2 != 0) {
                throw new IOException(file + " has " + bytes + " bytes, not a whole number of uint16 tokens");
            }
            int count = (int) ((bytes + SEGMENT_BYTES - 1) / SEGMENT_BYTES);
            ByteBuffer[] segments = new ByteBuffer[count];
            for (int i = 0; i < count; i++) {
                long start = i * SEGMENT_BYTES;
                segments[i] = channel.map(FileChannel.MapMode.READ_ONLY, start, Math.min(SEGMENT_BYTES, bytes - start))
                        .order(ByteOrder.LITTLE_ENDIAN);
            }
            return new TokenSequence(segments, null, bytes / 2);
        }
    }

    /** A sequence over a copy of {@code tokens}, each 0 .. 65535. */
    public static TokenSequence of(int... tokens) {
        for (int i = 0; i < tokens.length; i++) {
            if (tokens[i] < 0 || tokens[i] > 0xFFFF) {
                throw new IllegalArgumentException("token " + tokens[i] + " at " + i + " is not a uint16");
            }
        }
        return new TokenSequence(null, tokens.clone(), tokens.length);
    }

    /** Number of tokens. */
    public long length() {
        return length;
    }

    /** The largest token id (-1 when empty), found by one scan on first use; models need it below vocab_size. */
    public int maxToken() {
        int max = maxToken;
        if (max < 0 && length > 0) {
            for (long i = 0; i < length; i++) {
                max = Math.max(max, get(i));
            }
            maxToken = max;
        }
        return max;
    }

    /** The token at {@code index}. */
    public int get(long index) {
        if (index < 0 || index >= length) {
            throw new IndexOutOfBoundsException("token " + index + " of " + length);
        }
        if (tokens != null) {
            return tokens[(int) index];
        }
        long byteIndex = 2 * index;
        return segments[(int) (byteIndex / SEGMENT_BYTES)].getShort((int) (byteIndex % SEGMENT_BYTES)) & 0xFFFF;
    }

    /** Copies tokens {@code [start, start + count)} into {@code into} from {@code offset}. */
    public void copy(long start, int[] into, int offset, int count) {
        if (start < 0 || count < 0 || start + count > length) {
            throw new IndexOutOfBoundsException("tokens [" + start + ", " + (start + count) + ") of " + length);
        }
        if (tokens != null) {
            System.arraycopy(tokens, (int) start, into, offset, count);
            return;
        }
        for (int i = 0; i < count; i++) {
            into[offset + i] = get(start + i);
        }
    }

    /** Tokens {@code [start, start + count)} as a new array. */
    public int[] window(long start, int count) {
        int[] window = new int[count];
        copy(start, window, 0, count);
        return window;
    }
}
