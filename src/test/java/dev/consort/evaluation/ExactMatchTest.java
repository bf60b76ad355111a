package dev.consort.evaluation;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.List;
import java.util.Map;
import java.util.UUID;

import org.junit.jupiter.api.Test;

import dev.consort.dataset.Split;
import dev.consort.engine.Evaluator;

/** Reading answers as GSM8K writes them, and the Wilson interval, checked by hand. */
class ExactMatchTest {

    @Test
    void answersAreReadAfterTheMarkerAndNormalised() {
        String record = "Natalia sold 48 clips in April.\nShe sold 48 / 2 = 24 in May.\n#### 1,072.";
        assertThat(ExactMatch.normalise(ExactMatch.answer(record, "####", true))).isEqualTo("1072");
        // A generation: the first marker counts, up to the end of its line.
        assertThat(ExactMatch.answer("so 72 in all #### $72\n#### 5", "####", false)).isEqualTo("$72");
        assertThat(ExactMatch.normalise("$72")).isEqualTo("72");
        assertThat(ExactMatch.answer("no marker here", "####", false)).isNull();
        // No marker: the first line.
        assertThat(ExactMatch.answer(" Paris.\nAnd more", "", false)).isEqualTo("Paris.");
    }

    @Test
    void theWilsonIntervalMatchesTheFormulaByHand() {
        // k = 3, n = 5, z = 1.96: centre (0.6 + 0.38415) / 1.76829 = 0.55657, half 0.32583.
        double[] three = ExactMatch.wilson(3, 5);
        assertThat(three[0]).isCloseTo(0.2307, within(1e-4));
        assertThat(three[1]).isCloseTo(0.8824, within(1e-4));
        // k = 0 keeps a real upper bound: z² / (n + z²) = 3.8415 / 13.8415.
        double[] none = ExactMatch.wilson(0, 10);
        assertThat(none[0]).isZero();
        assertThat(none[1]).isCloseTo(0.2775, within(1e-4));
        assertThat(ExactMatch.wilson(0, 0)).isNull();
    }

    @Test
    void aRowMadeOverSeveralSeedsPoolsTheirAnswersAndKeepsEachSeedsAccuracy() {
        UUID dataset = UUID.randomUUID();
        ResultRow first = row(dataset, 2.0, new ExactMatch.Score(3, 5, 1));
        ResultRow second = row(dataset, 3.0, new ExactMatch.Score(1, 5, 1));
        Map<String, Object> pooled = ResultRow.acrossSeeds(List.of(first, second)).toMap();
        @SuppressWarnings("unchecked")
        Map<String, Object> exact = (Map<String, Object>) pooled.get("exact_match");
        assertThat(exact).containsEntry("correct", 4).containsEntry("n", 10).containsEntry("skipped", 2)
                .containsEntry("accuracy", 0.4);
        double[] interval = ExactMatch.wilson(4, 10);
        assertThat(exact).containsEntry("ci95_low", interval[0]).containsEntry("ci95_high", interval[1]);
        @SuppressWarnings("unchecked")
        Map<String, Object> seeds = (Map<String, Object>) pooled.get("seeds");
        assertThat(seeds.get("exact_match")).isEqualTo(List.of(0.6, 0.2));
        assertThat(pooled.get("loss")).isEqualTo(2.5);
    }

    private static ResultRow row(UUID dataset, double loss, ExactMatch.Score score) {
        return new ResultRow(Map.of("method", "layer_routing"), dataset, Split.TRAIN, 8,
                new Evaluator.Result(loss, 16, 2, new double[] {loss, loss}),
                Map.of("exact_match", score));
    }
}
