package dev.consort.plot;

import java.awt.Color;

/** Perceptually uniform colour maps from values in [0, 1]. */
public enum ColorMap {
    /**
     * Matplotlib's viridis (dark purple through teal to yellow) as the widely used degree-6 polynomial fit
     * per channel (Matt Zucker's): within about 4/255 of the 256-entry table, so still monotone in lightness.
     */
    VIRIDIS(new double[][] {
            {0.2777273272234177, 0.005407344544966578, 0.3340998053353061},
            {0.1050930431085774, 1.404613529898575, 1.384590162594685},
            {-0.3308618287255563, 0.214847559468213, 0.09509516302823659},
            {-4.634230498983486, -5.799100973351585, -19.33244095627987},
            {6.228269936347081, 14.17993336680509, 56.69055260068105},
            {4.776384997670288, -13.74514537774601, -65.35303263337234},
            {-5.435455855934631, 4.645852612178535, 26.3124352495832}});

    /** Coefficients of t⁰ … t⁶, each for red, green and blue in [0, 1]. */
    private final double[][] coefficients;

    ColorMap(double[][] coefficients) {
        this.coefficients = coefficients;
    }

    /** The colour of {@code value}, clamped into [0, 1]; NaN is refused, as it has no place on the scale. */
    public Color at(double value) {
        if (Double.isNaN(value)) {
            throw new IllegalArgumentException("NaN has no colour");
        }
        double t = Math.max(0, Math.min(1, value));
        int[] rgb = new int[3];
        for (int channel = 0; channel < 3; channel++) {
            double sum = 0;
            for (int power = coefficients.length - 1; power >= 0; power--) {
                sum = sum * t + coefficients[power][channel];
            }
            rgb[channel] = (int) Math.round(255 * Math.max(0, Math.min(1, sum)));
        }
        return new Color(rgb[0], rgb[1], rgb[2]);
    }
}
