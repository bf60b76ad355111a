package dev.consort.dataset;

/**
 * A dataset split's tokens as stored: a blob of unsigned 16-bit little-endian GPT-2 token ids, each
 * record's tokens followed by {@code <|endoftext|>} (50256).
 *
 * @param sha256 the blob; null when the split has no tokens
 * @param tokens how many tokens (the blob has twice as many bytes)
 */
public record TokenFile(String sha256, long tokens) {

    public static final int BYTES_PER_TOKEN = 2;

    public static final TokenFile EMPTY = new TokenFile(null, 0);

    public long bytes() {
        return tokens * BYTES_PER_TOKEN;
    }

    public boolean isEmpty() {
        return tokens == 0;
    }
}
