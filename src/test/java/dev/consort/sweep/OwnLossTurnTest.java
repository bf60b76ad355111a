package dev.consort.sweep;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.Map;
import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;

/** An expert's own loss along a sweep: a planted U is found, a falling curve and noise are not. */
class OwnLossTurnTest {

    private static final long[] STEPS = {0, 100, 200, 300};

    /** Each step's windows: the step's level plus the same per-window offsets, and a little noise. */
    private static double[][] losses(double[] levels, double noise) {
        SplittableRandom random = new SplittableRandom(3);
        double[] offsets = random.doubles(64, -1, 1).toArray();
        double[][] losses = new double[levels.length][offsets.length];
        for (int s = 0; s < levels.length; s++) {
            for (int w = 0; w < offsets.length; w++) {
                losses[s][w] = levels[s] + offsets[w] + noise * random.nextGaussian();
            }
        }
        return losses;
    }

    @Test
    void aPlantedUTurnsUpwardAtItsLowestStep() {
        Map<String, Object> turn = OwnLossTurn.find(STEPS, losses(new double[] {9, 7, 7.5, 8}, 0.01));
        assertThat(turn.get("lowest_step")).isEqualTo(100L);
        assertThat((double) turn.get("lowest_loss")).isCloseTo(7, within(0.3));
        @SuppressWarnings("unchecked")
        Map<String, Object> rise = (Map<String, Object>) turn.get("last_step_minus_lowest");
        assertThat((double) rise.get("difference")).isCloseTo(1, within(0.01));
        assertThat(turn.get("turns_upward")).isEqualTo(true);
    }

    @Test
    void aCurveStillFallingAtItsLastStepDoesNotTurn() {
        Map<String, Object> turn = OwnLossTurn.find(STEPS, losses(new double[] {9, 8, 7.5, 7.2}, 0.01));
        assertThat(turn.get("lowest_step")).isEqualTo(300L);
        assertThat(turn.get("turns_upward")).isEqualTo(false);
    }

    @Test
    void aRiseWithinTheNoiseDoesNotTurn() {
        // The last step is 0.001 above the lowest, with per-window noise 0.5: the paired interval straddles zero.
        Map<String, Object> turn = OwnLossTurn.find(STEPS, losses(new double[] {9, 7, 7.0005, 7.001}, 0.5));
        assertThat(turn.get("turns_upward")).isEqualTo(false);
    }
}
