package dev.consort.job;

import java.util.ArrayList;
import java.util.List;

import dev.consort.plot.Figure;
import tools.jackson.databind.JsonNode;

/**
 * One named figure drawn from a succeeded job's result, served at {@code GET /jobs/{id}/plots/{name}}
 * ({@link JobPlotController}). Implementations are Spring beans, so adding a plot is one class.
 */
public interface JobPlot {

    /** The job type whose results this plot draws, e.g. {@code sweep}. */
    String jobType();

    /** The plot's name in the URL, e.g. {@code merge-loss-vs-step}. */
    String name();

    /** Draws the plot of a succeeded job of {@link #jobType()}. */
    Figure draw(JobView job);

    /**
     * One number of every row of a result's table, in row order, at {@code path} (a field, or a field of a
     * field: {@code gain_over_better_expert}, {@code gain}); NaN where a row lacks it.
     */
    static double[] column(JsonNode rows, String... path) {
        List<Double> values = new ArrayList<>();
        rows.forEach(row -> {
            JsonNode node = row;
            for (String field : path) {
                node = node.path(field);
            }
            values.add(node.isNumber() ? node.asDouble() : Double.NaN);
        });
        return values.stream().mapToDouble(Double::doubleValue).toArray();
    }

    /** {@code values} ± {@code z} × {@code errors}, point by point (NaN where either is). */
    static double[] offset(double[] values, double[] errors, double z) {
        double[] shifted = new double[values.length];
        for (int i = 0; i < values.length; i++) {
            shifted[i] = values[i] + z * errors[i];
        }
        return shifted;
    }
}
