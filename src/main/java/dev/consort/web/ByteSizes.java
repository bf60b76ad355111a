package dev.consort.web;

import java.util.Locale;

/** Sizes as problem details show them. */
public final class ByteSizes {

    private ByteSizes() {}

    /** Bytes in binary units, e.g. {@code 1.5 GiB}. */
    public static String readable(long size) {
        String[] units = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
        double value = size;
        int unit = 0;
        while (value >= 1024 && unit < units.length - 1) {
            value /= 1024;
            unit++;
        }
        return unit == 0 ? size + " B" : String.format(Locale.ROOT, "%.1f %s", value, units[unit]);
    }
}
