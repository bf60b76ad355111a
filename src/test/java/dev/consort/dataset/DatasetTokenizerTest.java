package dev.consort.dataset;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import org.junit.jupiter.api.Test;

class DatasetTokenizerTest {

    private final Gpt2Tokenizer tokenizer = new Gpt2Tokenizer();

    @Test
    void encodesLikeGpt2() {
        assertThat(tokenizer.encode("Hello world")).containsExactly(15496, 995);
        assertThat(tokenizer.decode(new int[] {15496, 995})).isEqualTo("Hello world");
    }

    @Test
    void endOfTextInTheTextIsOrdinaryText() {
        int[] tokens = tokenizer.encode("a<|endoftext|>b");
        assertThat(tokens).doesNotContain(Gpt2Tokenizer.END_OF_TEXT).hasSizeGreaterThan(3);
        assertThat(tokenizer.decode(tokens)).isEqualTo("a<|endoftext|>b");
    }

    @Test
    void streamingEncoderMatchesEncodingTheWholeText() {
        String text = """
                It's 3.14159 o'clock; they'll've gone.  Don't   stop!!\t\tTabs\u00a0and\u00a0nbsp.
                日本語のテキスト、句読点。中文文本，标点符号！ 😀🚀 emoji 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 ½ Ⅻ ²³
                def f(x):\r\n    return x**2  # comment\n\n\n   trailing   \u2003em space\u2028line sep
                """;
        int[] whole = tokenizer.encode(text);
        for (int chunk : new int[] {1, 2, 3, 5, 17, 64, 1 << 16}) {
            for (int piece : new int[] {1, 4, 31, text.length()}) {
                assertThat(streamed(text, chunk, piece)).as("chunk %d, piece %d", chunk, piece).isEqualTo(whole);
            }
        }
    }

    @Test
    void streamingEncoderMatchesOnRandomText() {
        String alphabet = "aZé日本。，!?.'\"-_ \t\n\r\u00a0\u2003\u0085０9²½😀𝔘{}()[]<>|s";
        int[] codePoints = alphabet.codePoints().toArray();
        Random random = new Random(42);
        for (int round = 0; round < 200; round++) {
            StringBuilder text = new StringBuilder();
            int length = 1 + random.nextInt(300);
            for (int i = 0; i < length; i++) {
                text.appendCodePoint(codePoints[random.nextInt(codePoints.length)]);
            }
            int[] whole = tokenizer.encode(text.toString());
            assertThat(streamed(text.toString(), 1 + random.nextInt(8), 1 + random.nextInt(5)))
                    .as("text %s", text).isEqualTo(whole);
        }
    }

    private int[] streamed(String text, int chunkChars, int pieceChars) {
        List<Integer> tokens = new ArrayList<>();
        Gpt2Tokenizer.Encoder encoder = tokenizer.encoder(tokens::add, chunkChars);
        for (int i = 0; i < text.length(); i += pieceChars) {
            encoder.append(text.substring(i, Math.min(text.length(), i + pieceChars)));
        }
        encoder.finish();
        return tokens.stream().mapToInt(Integer::intValue).toArray();
    }
}
