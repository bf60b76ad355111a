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

    /** One field of every row of a result's table, in row order (NaN where a row lacks it). */
    static double[] column(JsonNode rows, String field) {
        List<Double> values = new ArrayList<>();
        rows.forEach(row -> values.add(row.path(field).asDouble(Double.NaN)));
        return values.stream().mapToDouble(Double::doubleValue).toArray();
    }
}
