package dev.consort.evaluation;

import java.util.LinkedHashMap;
import java.util.Map;

import org.apache.commons.math3.distribution.TDistribution;
import org.apache.commons.math3.stat.StatUtils;

/**
 * An estimate with its 95% confidence interval: a mean over n paired observations (windows, seeds) and the
 * Student-t interval mean ± t(0.975, n − 1) · sd / √n. With one observation the interval is unknown (NaN).
 */
public record Interval(double estimate, double low, double high, int n) {

    /** The mean of {@code values} with its 95% interval. */
    public static Interval ofMean(double[] values) {
        int n = values.length;
        if (n == 0) {
            throw new IllegalArgumentException("an interval needs at least one value");
        }
        double mean = StatUtils.mean(values);
        if (n == 1) {
            return new Interval(mean, Double.NaN, Double.NaN, 1);
        }
        double standardError = Math.sqrt(StatUtils.variance(values, mean) / n);
        double half = new TDistribution(n - 1).inverseCumulativeProbability(0.975) * standardError;
        return new Interval(mean, mean - half, mean + half, n);
    }

    /** The mean of a[i] − b[i] with its 95% interval: a paired comparison over the same observations. */
    public static Interval ofDifference(double[] a, double[] b) {
        if (a.length != b.length) {
            throw new IllegalArgumentException("paired values must be as many: " + a.length + " and " + b.length);
        }
        double[] differences = new double[a.length];
        for (int i = 0; i < a.length; i++) {
            differences[i] = a[i] - b[i];
        }
        return ofMean(differences);
    }

    /** Whether the interval lies entirely below zero (a difference that is negative beyond its noise). */
    public boolean belowZero() {
        return high < 0;
    }

    /** Whether the interval lies entirely above zero. */
    public boolean aboveZero() {
        return low > 0;
    }

    /** As results tables show it: {@code estimate}, {@code ci95_low}, {@code ci95_high}, {@code n}. */
    public Map<String, Object> toMap(String estimateName) {
        Map<String, Object> map = new LinkedHashMap<>();
        map.put(estimateName, estimate);
        map.put("ci95_low", Double.isNaN(low) ? null : low);
        map.put("ci95_high", Double.isNaN(high) ? null : high);
        map.put("n", n);
        return map;
    }
}
