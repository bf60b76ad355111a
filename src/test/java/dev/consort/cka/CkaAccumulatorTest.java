package dev.consort.cka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

class CkaAccumulatorTest {

    private final Random random = new Random(20_240_611);
    private NDManager manager;

    @BeforeEach
    void openManager() {
        manager = NDManager.newBaseManager();
    }

    @AfterEach
    void closeManager() {
        manager.close();
    }

    @Test
    void aRepresentationIsFullySimilarToItself() {
        double[][] x = gaussian(40, 6, 3.0);
        NDArray features = array(x, 0, x.length);
        try (CkaAccumulator accumulator = new CkaAccumulator(manager, List.of(6, 6))) {
            accumulator.add(List.of(features, features));
            for (CkaEstimator estimator : CkaEstimator.values()) {
                assertThat(accumulator.similarity(estimator).get(0, 1)).as(estimator.specName())
                        .isCloseTo(1.0, within(1e-6));
            }
        }
        assertThat(features.isReleased()).as("the caller's array stays the caller's").isFalse();
    }

    @Test
    void theMatrixIsSymmetricWithAUnitDiagonal() {
        List<double[][]> representations = correlated(50, 5, 8, 3, 12);
        try (CkaAccumulator accumulator = accumulate(representations, 7, 1)) {
            for (CkaEstimator estimator : CkaEstimator.values()) {
                CkaMatrix cka = accumulator.similarity(estimator);
                assertThat(cka.rows()).isEqualTo(4);
                assertThat(cka.columns()).isEqualTo(4);
                for (int r = 0; r < 4; r++) {
                    assertThat(cka.get(r, r)).as("%s diagonal %d", estimator, r).isCloseTo(1.0, within(1e-12));
                    for (int s = 0; s < 4; s++) {
                        assertThat(cka.get(r, s)).as("%s (%d, %d)", estimator, r, s).isEqualTo(cka.get(s, r));
                    }
                }
            }
        }
    }

    @Test
    void anOrthogonalRotationOrAnIsotropicScalingChangesNothing() {
        List<double[][]> pair = correlated(64, 7, 10);
        double[][] x = pair.get(0);
        double[][] y = pair.get(1);
        double[][] rotated = multiply(y, randomOrthogonal(10));
        double[][] scaled = scale(y, 2.5);
        try (CkaAccumulator accumulator = accumulate(List.of(x, y, rotated, scaled), 9, 1)) {
            for (CkaEstimator estimator : CkaEstimator.values()) {
                CkaMatrix cka = accumulator.similarity(estimator);
                assertThat(cka.get(0, 1)).as(estimator.specName()).isBetween(0.2, 0.99);
                assertThat(cka.get(0, 2)).as("%s rotated", estimator).isCloseTo(cka.get(0, 1), within(1e-6));
                assertThat(cka.get(0, 3)).as("%s scaled", estimator).isCloseTo(cka.get(0, 1), within(1e-6));
                assertThat(cka.get(1, 2)).isCloseTo(1.0, within(1e-6));
                assertThat(cka.get(1, 3)).isCloseTo(1.0, within(1e-6));
            }
        }
    }

    @Test
    void theMinibatchSizeChangesNothing() {
        List<double[][]> representations = correlated(71, 6, 4, 9);
        try (CkaAccumulator whole = accumulate(representations, 71, 1);
             CkaAccumulator bySevens = accumulate(representations, 7, 1);
             CkaAccumulator bufferedSevens = accumulate(representations, 7, 30)) {
            for (CkaEstimator estimator : CkaEstimator.values()) {
                CkaMatrix expected = whole.similarity(estimator);
                assertClose(bySevens.similarity(estimator), expected, 1e-6);
                assertClose(bufferedSevens.similarity(estimator), expected, 1e-6);
            }
            assertThat(bySevens.rows()).isEqualTo(71);
        }
    }

    @Test
    void agreesWithAnIndependentTokenSpaceComputationInFloat64() {
        List<double[][]> representations = correlated(61, 6, 9, 9, 3);
        // means far from zero, so the centring is exercised
        representations.set(1, offset(representations.get(1), 4.0));
        representations.set(3, offset(representations.get(3), -2.5));
        try (CkaAccumulator accumulator = accumulate(representations, 7, 10)) {
            CkaMatrix linear = accumulator.similarity(CkaEstimator.LINEAR);
            CkaMatrix debiased = accumulator.similarity(CkaEstimator.DEBIASED);
            for (int r = 0; r < 4; r++) {
                for (int s = 0; s < 4; s++) {
                    double[][] x = representations.get(r);
                    double[][] y = representations.get(s);
                    assertThat(linear.get(r, s)).as("linear (%d, %d)", r, s)
                            .isCloseTo(TokenSpaceCka.linear(x, y), within(1e-6));
                    assertThat(debiased.get(r, s)).as("debiased (%d, %d)", r, s)
                            .isCloseTo(TokenSpaceCka.debiased(x, y), within(1e-6));
                }
            }
            assertThat(linear.get(0, 1)).isNotCloseTo(debiased.get(0, 1), within(1e-3));
        }
    }

    @Test
    void theDebiasedEstimatorOfIndependentRepresentationsIsNearZeroAndTheBiasedOneIsNot() {
        List<double[][]> independent = List.of(gaussian(200, 50, 0), gaussian(200, 50, 0));
        try (CkaAccumulator accumulator = accumulate(independent, 64, 1)) {
            assertThat(accumulator.similarity(CkaEstimator.DEBIASED).get(0, 1)).isBetween(-0.05, 0.05);
            assertThat(accumulator.similarity(CkaEstimator.LINEAR).get(0, 1)).isGreaterThan(0.1);
        }
    }

    @Test
    void refusesMisshapenInputAndTooFewRowsForTheDebiasedEstimator() {
        try (CkaAccumulator accumulator = new CkaAccumulator(manager, List.of(3, 4))) {
            NDArray three = manager.zeros(new Shape(2, 3));
            assertThatThrownBy(() -> accumulator.add(List.of(three, manager.zeros(new Shape(2, 5)))))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("representation 1");
            assertThatThrownBy(() -> accumulator.add(List.of(three)))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("expected 2");
            assertThatThrownBy(() -> accumulator.add(List.of(three, manager.zeros(new Shape(2, 4), DataType.INT32))))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("int32");

            accumulator.add(List.of(array(gaussian(3, 3, 0), 0, 3), array(gaussian(3, 4, 0), 0, 3)));
            assertThat(accumulator.similarity(CkaEstimator.LINEAR).get(0, 0)).isCloseTo(1.0, within(1e-12));
            assertThatThrownBy(() -> accumulator.similarity(CkaEstimator.DEBIASED))
                    .isInstanceOf(IllegalStateException.class).hasMessageContaining("at least 4 rows");
        }
    }

    /** Feeds the representations' rows in minibatches of {@code batchRows}. */
    private CkaAccumulator accumulate(List<double[][]> representations, int batchRows, int rowsPerProduct) {
        List<Integer> widths = representations.stream().map(x -> x[0].length).toList();
        CkaAccumulator accumulator = new CkaAccumulator(manager, widths, rowsPerProduct);
        int n = representations.get(0).length;
        for (int from = 0; from < n; from += batchRows) {
            int to = Math.min(n, from + batchRows);
            try (NDManager batch = manager.newSubManager()) {
                List<NDArray> arrays = new ArrayList<>();
                for (double[][] representation : representations) {
                    NDArray array = array(representation, from, to);
                    array.attach(batch);
                    arrays.add(array);
                }
                accumulator.add(arrays);
            }
        }
        return accumulator;
    }

    /** Rows [from, to) as a float32 array; the test's data are float-representable, so both sides see the same numbers. */
    private NDArray array(double[][] rows, int from, int to) {
        int width = rows[0].length;
        float[] data = new float[(to - from) * width];
        for (int i = from; i < to; i++) {
            for (int c = 0; c < width; c++) {
                data[(i - from) * width + c] = (float) rows[i][c];
            }
        }
        return manager.create(data, new Shape(to - from, width));
    }

    /** Gaussian features, rounded to float so that float32 and float64 computations start from the same data. */
    private double[][] gaussian(int n, int width, double mean) {
        double[][] x = new double[n][width];
        for (double[] row : x) {
            for (int c = 0; c < width; c++) {
                row[c] = (float) (mean + random.nextGaussian());
            }
        }
        return x;
    }

    /** Representations of the given widths that share a common signal plus their own noise. */
    private List<double[][]> correlated(int n, int... widths) {
        double[][] signal = gaussian(n, 4, 0);
        List<double[][]> representations = new ArrayList<>();
        for (int width : widths) {
            double[][] mixed = multiply(signal, gaussian(4, width, 0));
            double[][] noise = gaussian(n, width, 0);
            for (int i = 0; i < n; i++) {
                for (int c = 0; c < width; c++) {
                    mixed[i][c] = (float) (mixed[i][c] + 1.5 * noise[i][c]);
                }
            }
            representations.add(mixed);
        }
        return representations;
    }

    /** A random orthogonal matrix: Gram–Schmidt on Gaussian columns. */
    private double[][] randomOrthogonal(int size) {
        double[][] q = gaussian(size, size, 0);
        for (int c = 0; c < size; c++) {
            for (int previous = 0; previous < c; previous++) {
                double dot = 0;
                for (int i = 0; i < size; i++) {
                    dot += q[i][c] * q[i][previous];
                }
                for (int i = 0; i < size; i++) {
                    q[i][c] -= dot * q[i][previous];
                }
            }
            double norm = 0;
            for (int i = 0; i < size; i++) {
                norm += q[i][c] * q[i][c];
            }
            for (int i = 0; i < size; i++) {
                q[i][c] /= Math.sqrt(norm);
            }
        }
        double[][] identity = multiply(transpose(q), q);
        for (int i = 0; i < size; i++) {
            for (int j = 0; j < size; j++) {
                assertThat(identity[i][j]).isCloseTo(i == j ? 1.0 : 0.0, within(1e-12));
            }
        }
        return q;
    }

    private static double[][] multiply(double[][] a, double[][] b) {
        double[][] product = new double[a.length][b[0].length];
        for (int i = 0; i < a.length; i++) {
            for (int m = 0; m < b.length; m++) {
                for (int j = 0; j < b[0].length; j++) {
                    product[i][j] += a[i][m] * b[m][j];
                }
            }
        }
        return product;
    }

    private static double[][] transpose(double[][] a) {
        double[][] transposed = new double[a[0].length][a.length];
        for (int i = 0; i < a.length; i++) {
            for (int j = 0; j < a[0].length; j++) {
                transposed[j][i] = a[i][j];
            }
        }
        return transposed;
    }

    private static double[][] scale(double[][] a, double factor) {
        return Arrays.stream(a).map(row -> Arrays.stream(row).map(v -> v * factor).toArray()).toArray(double[][]::new);
    }

    private static double[][] offset(double[][] a, double shift) {
        return Arrays.stream(a).map(row -> Arrays.stream(row).map(v -> (float) (v + shift)).toArray())
                .toArray(double[][]::new);
    }

    private static void assertClose(CkaMatrix actual, CkaMatrix expected, double tolerance) {
        for (int r = 0; r < expected.rows(); r++) {
            for (int s = 0; s < expected.columns(); s++) {
                assertThat(actual.get(r, s)).as("(%d, %d)", r, s).isCloseTo(expected.get(r, s), within(tolerance));
            }
        }
    }
}
