package dev.consort.generation;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;

import org.junit.jupiter.api.Test;

import dev.consort.dataset.Gpt2Tokenizer;

/** A choice's text from its tokens: characters split across tokens, stop strings, and what may be streamed when. */
class CompletionTextTest {

    private final Gpt2Tokenizer tokenizer = new Gpt2Tokenizer();

    @Test
    void charactersSplitAcrossTokensAreReleasedOnlyWhenComplete() {
        String original = "naïve 日本語 🙂 done";
        int[] tokens = tokenizer.encode(original);
        assertThat(tokens.length).as("a character split over byte-level tokens").isGreaterThan(original.length() / 2);
        CompletionText text = new CompletionText(tokenizer, List.of());
        StringBuilder streamed = new StringBuilder();
        for (int token : tokens) {
            assertThat(text.add(token)).isTrue();
            String piece = text.release(false);
            assertThat(piece).doesNotContain("\uFFFD");
            streamed.append(piece);
        }
        streamed.append(text.release(true));
        assertThat(streamed.toString()).isEqualTo(original);
        assertThat(text.finish()).isEqualTo(original);
    }

    @Test
    void theTextEndsBeforeTheFirstStopStringAndItsStartIsHeldBackWhileItMightBeOne() {
        CompletionText text = new CompletionText(tokenizer, List.of("\n\n", "END"));
        StringBuilder streamed = new StringBuilder();
        boolean going = true;
        for (int token : tokenizer.encode("one two E three\n\nfour")) {
            going = text.add(token);
            streamed.append(text.release(false));
            if (!going) {
                break;
            }
            // While "E" could begin "END" it is not released; once " three" shows it does not, it is.
            assertThat(streamed.toString()).doesNotEndWith("E").doesNotContain("\n");
        }
        streamed.append(text.release(true));
        assertThat(going).isFalse();
        assertThat(text.finish()).isEqualTo("one two E three");
        assertThat(streamed.toString()).isEqualTo("one two E three");
    }
}
