package dev.consort.compatibility;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

import org.junit.jupiter.api.Test;

import dev.consort.evaluation.Interval;

/** The compatibility model's statistics on numbers checked by hand. */
class CompatibilityModelTest {

    private static final UUID SWEEP_A = new UUID(0, 1);
    private static final UUID SWEEP_B = new UUID(0, 2);

    private static CompatibilityModel.Observation at(UUID sweep, double cka, double gain) {
        return new CompatibilityModel.Observation(sweep, Math.round(cka * 100), cka, gain);
    }

    @Test
    void aLineThroughExactPointsIsThatLine() {
        // gain = 0.5 · CKA − 0.3, exactly.
        List<CompatibilityModel.Observation> points = new ArrayList<>();
        for (double cka : new double[] {0.2, 0.4, 0.6, 0.8}) {
            points.add(at(cka < 0.5 ? SWEEP_A : SWEEP_B, cka, 0.5 * cka - 0.3));
        }
        CompatibilityModel model = CompatibilityModel.fit(points);
        assertThat(model.slope()).isCloseTo(0.5, within(1e-12));
        assertThat(model.intercept()).isCloseTo(-0.3, within(1e-12));
        assertThat(model.residualSd()).isCloseTo(0, within(1e-12));
        Interval prediction = model.predict(0.9);
        assertThat(prediction.estimate()).isCloseTo(0.15, within(1e-12));
        assertThat(prediction.aboveZero()).isTrue();
        assertThat(model.sweeps()).isEqualTo(2);
        // Two points per sweep: leaving one sweep out leaves too few to fit, so nothing is predicted held out.
        assertThat(model.heldOutPredictions()).isZero();
        assertThat(model.heldOutSpearman()).isNull();
    }

    @Test
    void thePredictionIntervalWidensAwayFromTheDataAndHeldOutRanksAreScored() {
        List<CompatibilityModel.Observation> points = new ArrayList<>();
        double[] noise = {0.02, -0.01, 0.015, -0.02, 0.01, -0.015, 0.005, 0.0};
        for (int i = 0; i < 8; i++) {
            double cka = 0.3 + 0.08 * i;
            points.add(at(i % 2 == 0 ? SWEEP_A : SWEEP_B, cka, 0.4 * cka - 0.2 + noise[i]));
        }
        CompatibilityModel model = CompatibilityModel.fit(points);
        Interval near = model.predict(model.meanCka());
        Interval far = model.predict(1.5);
        assertThat(far.high() - far.low()).isGreaterThan(near.high() - near.low());
        // The half-width at the mean CKA: t(0.975, 6) · s · √(1 + 1/8).
        assertThat(near.high() - near.estimate()).isCloseTo(2.446912 * model.residualSd() * Math.sqrt(1 + 1.0 / 8),
                within(1e-5));
        assertThat(model.heldOutPredictions()).isEqualTo(8);
        assertThat(model.heldOutSpearman()).isGreaterThan(0.9);
    }

    @Test
    void spearmanRanksWithTies() {
        assertThat(CompatibilityModel.spearman(List.of(1.0, 2.0, 3.0), List.of(10.0, 20.0, 30.0))).isEqualTo(1.0);
        assertThat(CompatibilityModel.spearman(List.of(1.0, 2.0, 3.0), List.of(3.0, 2.0, 1.0))).isEqualTo(-1.0);
        // Ranks (1, 2.5, 2.5, 4) against (1, 2, 3, 4): Pearson of the ranks = 4.5 / √(4.5 · 5).
        assertThat(CompatibilityModel.spearman(List.of(1.0, 2.0, 2.0, 4.0), List.of(1.0, 2.0, 3.0, 4.0)))
                .isCloseTo(4.5 / Math.sqrt(4.5 * 5), within(1e-12));
        assertThat(CompatibilityModel.spearman(List.of(1.0, 1.0, 1.0), List.of(1.0, 2.0, 3.0))).isNaN();
        assertThatThrownBy(() -> CompatibilityModel.fit(List.of(at(SWEEP_A, 0.1, 0.0), at(SWEEP_A, 0.2, 0.0))))
                .hasMessageContaining("at least 3");
    }
}
