package dev.consort.evaluation;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

/** Intervals checked by hand: mean ± t(0.975, n − 1) · sd / √n. */
class IntervalTest {

    @Test
    void theMeanOfFourValuesByHand() {
        // mean 2.5, sd √(5/3) = 1.2910, se 0.6455, t(0.975, 3) = 3.1824: half-width 2.0543.
        Interval interval = Interval.ofMean(new double[] {1, 2, 3, 4});
        assertThat(interval.estimate()).isEqualTo(2.5);
        assertThat(interval.high() - interval.estimate()).isCloseTo(3.182446 * Math.sqrt(5.0 / 3) / 2, within(1e-5));
        assertThat(interval.low()).isCloseTo(2.5 - 2.05426, within(1e-4));
        assertThat(interval.n()).isEqualTo(4);
        assertThat(interval.aboveZero()).isTrue();
    }

    @Test
    void aPairedDifferenceRemovesWhatTheWindowsShare() {
        // Windows differ a lot, the two models by a steady 0.1: the paired interval is narrow and below zero.
        double[] a = {5.0, 1.0, 9.0, 3.0, 7.0};
        double[] b = {5.1, 1.1, 9.1, 3.1, 7.1};
        Interval paired = Interval.ofDifference(a, b);
        assertThat(paired.estimate()).isCloseTo(-0.1, within(1e-12));
        assertThat(paired.high() - paired.low()).isLessThan(1e-9);
        assertThat(paired.belowZero()).isTrue();
        assertThat(Interval.ofMean(a).high() - Interval.ofMean(a).low()).isGreaterThan(5);
        assertThat(Interval.ofDifference(a, a).estimate()).isZero();
    }

    @Test
    void oneObservationHasNoInterval() {
        Interval one = Interval.ofMean(new double[] {0.7});
        assertThat(one.estimate()).isEqualTo(0.7);
        assertThat(one.low()).isNaN();
        assertThat(one.toMap("loss")).containsEntry("ci95_low", null).containsEntry("n", 1);
        assertThatThrownBy(() -> Interval.ofMean(new double[0])).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Interval.ofDifference(new double[2], new double[3]))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
