package dev.consort.dataset;

import java.util.function.IntConsumer;

import com.knuddels.jtokkit.Encodings;
import com.knuddels.jtokkit.api.Encoding;
import com.knuddels.jtokkit.api.EncodingType;
import com.knuddels.jtokkit.api.IntArrayList;
import org.springframework.stereotype.Component;

/**
 * GPT-2's byte-pair encoding (jtokkit {@code R50K_BASE}), shared by dataset uploads and the engine.
 * The jtokkit encoding is immutable and thread-safe, so one instance serves every caller.
 *
 * <p>Text is always encoded as ordinary text: a literal {@code <|endoftext|>} in a record is
 * tokenized like any other characters, and token {@value #END_OF_TEXT} is only ever written by
 * whoever separates records.
 */
@Component
public class Gpt2Tokenizer {

    /** {@code <|endoftext|>}: separates records in a token file. */
    public static final int END_OF_TEXT = 50256;
    public static final int VOCAB_SIZE = 50257;

    /** How much text a streaming {@link Encoder} collects before it looks for a place to cut. */
    static final int DEFAULT_CHUNK_CHARS = 1 << 16;

    // The lazy registry loads only the table asked for; the default one would also load o200k and cl100k.
    private final Encoding encoding = Encodings.newLazyEncodingRegistry().getEncoding(EncodingType.R50K_BASE);

    /** The tokens of {@code text}, without a trailing {@code <|endoftext|>}. */
    public int[] encode(String text) {
        return encoding.encodeOrdinary(text).toArray();
    }

    public String decode(int[] tokens) {
        IntArrayList list = new IntArrayList(tokens.length);
        for (int token : tokens) {
            list.add(token);
        }
        return encoding.decode(list);
    }

    /** The UTF-8 bytes a token stands for: a character may span two tokens, so text is decoded from bytes. */
    public byte[] bytesOf(int token) {
        IntArrayList list = new IntArrayList(1);
        list.add(token);
        return encoding.decodeBytes(list);
    }

    /** A streaming encoder for text of any length: the tokens equal {@link #encode} of the whole text. */
    public Encoder encoder(IntConsumer tokens) {
        return new Encoder(tokens, DEFAULT_CHUNK_CHARS);
    }

    Encoder encoder(IntConsumer tokens, int chunkChars) {
        return new Encoder(tokens, chunkChars);
    }

    /**
     * Encodes a text that arrives in pieces, so a record as large as its file never has to be held
     * whole. The text is cut only where GPT-2's pre-tokenizer always splits (see {@link #alwaysSplits}),
     * which makes the tokens of the pieces equal the tokens of the whole.
     */
    public final class Encoder {

        private final IntConsumer tokens;
        private final int chunkChars;
        private final StringBuilder pending = new StringBuilder();
        /** Below this index {@code pending} is known to hold no cut: the search never rescans it. */
        private int searchedUpTo;

        private Encoder(IntConsumer tokens, int chunkChars) {
            this.tokens = tokens;
            this.chunkChars = chunkChars;
        }

        public void append(CharSequence text) {
            pending.append(text);
            if (pending.length() >= chunkChars) {
                int cut = lastCut();
                if (cut > 0) {
                    encodePending(cut);
                } else {
                    searchedUpTo = Math.max(0, pending.length() - 1);
                }
            }
        }

        /** The text ends here: encodes whatever is still held. The encoder can then start a new text. */
        public void finish() {
            encodePending(pending.length());
        }

        private int lastCut() {
            for (int i = pending.length() - 1; i > searchedUpTo; i--) {
                if (alwaysSplits(pending.charAt(i - 1), pending.charAt(i))) {
                    return i;
                }
            }
            return -1;
        }

        private void encodePending(int end) {
            if (end > 0) {
                IntArrayList encoded = encoding.encodeOrdinary(pending.substring(0, end));
                for (int i = 0; i < encoded.size(); i++) {
                    tokens.accept(encoded.get(i));
                }
                pending.delete(0, end);
            }
            searchedUpTo = 0;
        }
    }

    /**
     * Whether GPT-2's pre-tokenizer ({@code 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+})
     * puts a piece boundary between {@code before} and {@code after} whatever surrounds them, so that
     * encoding the text on either side separately gives the same tokens. That holds when {@code before}
     * is not whitespace (no lookahead can reach across) and not an apostrophe (a contraction), and
     * {@code after} is a plain space (spaces only ever start a piece) or begins another character class
     * (letters, numbers, other symbols). Surrogates and anything that might be whitespace are never cut.
     */
    static boolean alwaysSplits(char before, char after) {
        if (Character.isSurrogate(before) || Character.isSurrogate(after) || mightBeSpace(before) || before == '\'') {
            return false;
        }
        if (after == ' ') {
            return true;
        }
        return !mightBeSpace(after) && characterClass(before) != characterClass(after);
    }

    private static boolean mightBeSpace(char c) {
        return Character.isWhitespace(c) || Character.isSpaceChar(c) || c == '\u0085';
    }

    /** 0: letter ({@code \p{L}}), 1: number ({@code \p{N}}), 2: anything else that is not whitespace. */
    private static int characterClass(char c) {
        if (Character.isLetter(c)) {
            return 0;
        }
        return switch (Character.getType(c)) {
            case Character.DECIMAL_DIGIT_NUMBER, Character.LETTER_NUMBER, Character.OTHER_NUMBER -> 1;
            default -> 2;
        };
    }
}
