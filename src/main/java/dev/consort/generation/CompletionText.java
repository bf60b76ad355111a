package dev.consort.generation;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

import dev.consort.dataset.Gpt2Tokenizer;

/**
 * The text of one choice as its tokens arrive: decoded from the tokens' UTF-8 bytes (a character may span two
 * tokens, so a trailing incomplete one waits for the next), cut before the first stop string, and released for
 * streaming only once it cannot turn out to be the start of a stop string.
 */
final class CompletionText {

    private final Gpt2Tokenizer tokenizer;
    private final List<String> stops;
    private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    private String text = "";
    private int released;
    private boolean stopped;

    CompletionText(Gpt2Tokenizer tokenizer, List<String> stops) {
        this.tokenizer = tokenizer;
        this.stops = stops;
    }

    /** Adds a generated token; false once a stop string is complete (the text then ends before it). */
    boolean add(int token) {
        bytes.writeBytes(tokenizer.bytesOf(token));
        byte[] all = bytes.toByteArray();
        int searchFrom = text.length();
        text = new String(all, 0, all.length - incompleteTail(all), StandardCharsets.UTF_8);
        int first = -1;
        for (String stop : stops) {
            int at = text.indexOf(stop, Math.max(0, searchFrom - stop.length() + 1));
            if (at >= 0 && (first < 0 || at < first)) {
                first = at;
            }
        }
        if (first >= 0) {
            text = text.substring(0, first);
            stopped = true;
        }
        return !stopped;
    }

    /** The whole text: at the end, an incomplete last character becomes U+FFFD. */
    String finish() {
        if (!stopped) {
            text = bytes.toString(StandardCharsets.UTF_8);
        }
        return text;
    }

    /**
     * The text not yet released that can be sent now: all of it after a stop or at the end, otherwise all but a
     * tail that is the start of a stop string.
     */
    String release(boolean finished) {
        String current = finished ? finish() : text;
        int end = finished || stopped ? current.length() : current.length() - stopPrefixAtEnd(current);
        if (end <= released) {
            return "";
        }
        String piece = current.substring(released, end);
        released = end;
        return piece;
    }

    /** The length of the longest end of {@code current} that a stop string starts with. */
    private int stopPrefixAtEnd(String current) {
        int longest = 0;
        for (String stop : stops) {
            for (int k = Math.min(stop.length() - 1, current.length()); k > longest; k--) {
                if (current.endsWith(stop.substring(0, k))) {
                    longest = k;
                    break;
                }
            }
        }
        return longest;
    }

    /** Bytes at the end that begin a UTF-8 character whose remaining bytes have not arrived. */
    static int incompleteTail(byte[] utf8) {
        for (int back = 1; back <= Math.min(3, utf8.length); back++) {
            int b = utf8[utf8.length - back] & 0xff;
            if ((b & 0xc0) == 0x80) {
                continue;                                   // a continuation byte: look further back for the lead
            }
            int length = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
            return length > back ? back : 0;
        }
        return 0;
    }
}
