package dev.consort.plot;

import java.util.Locale;

/**
 * A linear axis over a data range padded by 4% on each side (so that no point sits on the frame), with
 * ticks at "nice" steps (1, 2 or 5 times a power of ten) inside it.
 */
record AxisScale(double min, double max, double step) {

    /** A scale covering [low, high] with about {@code ticks} ticks; a degenerate range is widened. */
    static AxisScale covering(double low, double high, int ticks) {
        if (!Double.isFinite(low) || !Double.isFinite(high)) {
            return new AxisScale(0, 1, 0.2);
        }
        if (high - low <= Math.max(Math.abs(high), Math.abs(low)) * 1e-12) {
            double pad = low == 0 ? 1 : Math.abs(low) * 0.1;
            low -= pad;
            high += pad;
        }
        double pad = 0.04 * (high - low);
        double rough = (high - low) / Math.max(1, ticks - 1);
        double power = Math.pow(10, Math.floor(Math.log10(rough)));
        double fraction = rough / power;
        double step = (fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10) * power;
        return new AxisScale(low - pad, high + pad, step);
    }

    /** Where {@code value} lies between min (0) and max (1). */
    double fraction(double value) {
        return (value - min) / (max - min);
    }

    /** The multiples of the step within [min, max]. */
    double[] ticks() {
        long first = (long) Math.ceil(min / step - 1e-9);
        long last = (long) Math.floor(max / step + 1e-9);
        double[] ticks = new double[(int) Math.max(0, last - first + 1)];
        for (int i = 0; i < ticks.length; i++) {
            ticks[i] = (first + i) * step;
        }
        return ticks;
    }

    /** A tick label with as many decimals as the step needs, large values shortened with k or M. */
    String label(double value) {
        double magnitude = Math.max(Math.abs(min), Math.abs(max));
        String suffix = magnitude >= 1e6 ? "M" : magnitude >= 1e4 ? "k" : "";
        double unit = magnitude >= 1e6 ? 1e6 : magnitude >= 1e4 ? 1e3 : 1;
        int decimals = (int) Math.max(0, Math.ceil(-Math.log10(step / unit) - 1e-9));
        if (Math.abs(value / step) < 1e-9) {
            return "0";
        }
        return String.format(Locale.ROOT, "%." + decimals + "f", value / unit) + suffix;
    }
}
