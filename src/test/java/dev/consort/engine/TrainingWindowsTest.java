package dev.consort.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.List;

import org.junit.jupiter.api.Test;

/** The training windows: a mixture (DataMix) draws each row's source by its weight, reproducibly. */
class TrainingWindowsTest {

    private static TokenSequence constant(int token, int length) {
        int[] tokens = new int[length];
        java.util.Arrays.fill(tokens, token);
        return TokenSequence.of(tokens);
    }

    @Test
    void aMixtureDrawsEachSourceByItsWeight() {
        TrainingWindows windows = new TrainingWindows(List.of(constant(1, 100), constant(2, 50)), new double[] {3, 1}, 7);
        int rows = 4000;
        int[] inputs = new int[rows * 8];
        int[] targets = new int[rows * 8];
        windows.sample(rows, 8, inputs, targets);
        int fromFirst = 0;
        for (int row = 0; row < rows; row++) {
            int token = inputs[row * 8];
            assertThat(inputs[row * 8 + 7]).isEqualTo(token); // a window never mixes sources
            fromFirst += token == 1 ? 1 : 0;
        }
        // 3 : 1 gives 3/4 of the rows; the binomial sd is 0.007 at 4000 rows.
        assertThat(fromFirst / (double) rows).isCloseTo(0.75, within(0.03));

        // The same seed and state give the same windows; a restored state continues where it was.
        TrainingWindows again = new TrainingWindows(List.of(constant(1, 100), constant(2, 50)), new double[] {3, 1}, 7);
        int[] replay = new int[rows * 8];
        again.sample(rows, 8, replay, new int[rows * 8]);
        assertThat(replay).isEqualTo(inputs);
        assertThatThrownBy(() -> new TrainingWindows(List.of(constant(1, 20)), new double[] {0}, 1))
                .hasMessageContaining("positive");
    }

    @Test
    void oneSourceDrawsAsItAlwaysHas() {
        TokenSequence tokens = TokenSequence.of(new java.util.SplittableRandom(4).ints(300, 0, 50).toArray());
        int[] single = new int[64 * 8];
        int[] mixed = new int[64 * 8];
        new TrainingWindows(tokens, 11).sample(64, 8, single, new int[64 * 8]);
        new TrainingWindows(List.of(tokens), new double[] {2.5}, 11).sample(64, 8, mixed, new int[64 * 8]);
        assertThat(mixed).isEqualTo(single);
    }
}
