package dev.consort.compatibility;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import org.apache.commons.math3.distribution.TDistribution;

import dev.consort.evaluation.Interval;

/**
 * How the gain of merging over the better expert follows the specialists' CKA, learned from sweeps: a least-squares
 * line gain = intercept + slope · CKA through every step of every sweep, with the 95% prediction interval of a new
 * observation, ŷ ± t(0.975, n − 2) · s · √(1 + 1/n + (x − x̄)² / Sxx). Its honesty is measured by leaving each
 * sweep out in turn, predicting that sweep's steps from the others, and taking the Spearman rank correlation of
 * those held-out predictions with the gains the sweeps realised.
 */
record CompatibilityModel(double intercept, double slope, double residualSd, int n, double meanCka, double sxx,
        int sweeps, Double heldOutSpearman, int heldOutPredictions) {

    /** One sweep step: the specialists' CKA and the gain their merge realised. */
    record Observation(UUID sweep, long step, double cka, double gain) {}

    /** The fewest observations a line (with a residual spread) is fitted to. */
    static final int MIN_OBSERVATIONS = 3;

    /** The line through {@code observations}, with its held-out Spearman correlation when there are two sweeps or more. */
    static CompatibilityModel fit(List<Observation> observations) {
        CompatibilityModel line = line(observations);
        List<UUID> sweeps = observations.stream().map(Observation::sweep).distinct().toList();
        List<Double> predicted = new ArrayList<>();
        List<Double> realised = new ArrayList<>();
        for (UUID left : sweeps) {
            List<Observation> others = observations.stream().filter(o -> !o.sweep().equals(left)).toList();
            if (others.size() < MIN_OBSERVATIONS) {
                continue;
            }
            CompatibilityModel without = line(others);
            observations.stream().filter(o -> o.sweep().equals(left)).forEach(o -> {
                predicted.add(without.predict(o.cka()).estimate());
                realised.add(o.gain());
            });
        }
        Double spearman = predicted.size() >= 3 ? spearman(predicted, realised) : null;
        return new CompatibilityModel(line.intercept, line.slope, line.residualSd, line.n, line.meanCka, line.sxx,
                sweeps.size(), spearman, predicted.size());
    }

    private static CompatibilityModel line(List<Observation> observations) {
        int n = observations.size();
        if (n < MIN_OBSERVATIONS) {
            throw new IllegalArgumentException("a compatibility model needs at least " + MIN_OBSERVATIONS
                    + " sweep steps, there are " + n);
        }
        double meanX = observations.stream().mapToDouble(Observation::cka).average().orElseThrow();
        double meanY = observations.stream().mapToDouble(Observation::gain).average().orElseThrow();
        double sxx = 0;
        double sxy = 0;
        for (Observation o : observations) {
            sxx += (o.cka() - meanX) * (o.cka() - meanX);
            sxy += (o.cka() - meanX) * (o.gain() - meanY);
        }
        // All at one CKA: no slope to learn; the line is flat at the mean gain.
        double slope = sxx > 0 ? sxy / sxx : 0;
        double intercept = meanY - slope * meanX;
        double squares = 0;
        for (Observation o : observations) {
            double residual = o.gain() - (intercept + slope * o.cka());
            squares += residual * residual;
        }
        return new CompatibilityModel(intercept, slope, Math.sqrt(squares / (n - 2)), n, meanX, sxx, 0, null, 0);
    }

    /** The predicted gain at {@code cka}, with its 95% prediction interval. */
    Interval predict(double cka) {
        double estimate = intercept + slope * cka;
        double leverage = sxx > 0 ? (cka - meanCka) * (cka - meanCka) / sxx : 0;
        double half = new TDistribution(n - 2).inverseCumulativeProbability(0.975) * residualSd
                * Math.sqrt(1 + 1.0 / n + leverage);
        return new Interval(estimate, estimate - half, estimate + half, n);
    }

    /** Spearman's rank correlation: Pearson's on the ranks, ties given their mean rank. */
    static double spearman(List<Double> a, List<Double> b) {
        double[] ra = ranks(a);
        double[] rb = ranks(b);
        double meanA = Arrays.stream(ra).average().orElseThrow();
        double meanB = Arrays.stream(rb).average().orElseThrow();
        double cov = 0;
        double varA = 0;
        double varB = 0;
        for (int i = 0; i < ra.length; i++) {
            cov += (ra[i] - meanA) * (rb[i] - meanB);
            varA += (ra[i] - meanA) * (ra[i] - meanA);
            varB += (rb[i] - meanB) * (rb[i] - meanB);
        }
        return varA == 0 || varB == 0 ? Double.NaN : cov / Math.sqrt(varA * varB);
    }

    private static double[] ranks(List<Double> values) {
        Integer[] order = new Integer[values.size()];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        Arrays.sort(order, (x, y) -> Double.compare(values.get(x), values.get(y)));
        double[] ranks = new double[values.size()];
        for (int i = 0; i < order.length;) {
            int j = i;
            while (j + 1 < order.length && values.get(order[j + 1]).equals(values.get(order[i]))) {
                j++;
            }
            double rank = (i + j) / 2.0 + 1;
            for (int k = i; k <= j; k++) {
                ranks[order[k]] = rank;
            }
            i = j + 1;
        }
        return ranks;
    }

    /** As the API shows the model. */
    Map<String, Object> toMap() {
        Map<String, Object> map = new LinkedHashMap<>();
        map.put("intercept", intercept);
        map.put("slope", slope);
        map.put("residual_sd", residualSd);
        map.put("observations", n);
        map.put("sweeps", sweeps);
        map.put("held_out_spearman", heldOutSpearman == null || heldOutSpearman.isNaN() ? null : heldOutSpearman);
        map.put("held_out_predictions", heldOutPredictions);
        return map;
    }
}
