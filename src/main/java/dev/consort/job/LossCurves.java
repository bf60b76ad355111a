package dev.consort.job;

import java.util.List;
import java.util.UUID;

import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * A job's loss curves: one series per name ({@code train}, {@code validation}, router curves, ...). A series longer
 * than the request's {@code max_points} comes evenly thinned, its first and last points always kept.
 */
public record LossCurves(@JsonProperty("job_id") UUID jobId, List<Series> series) {

    /** Points a series is thinned to unless the request asks for another number. */
    public static final int DEFAULT_MAX_POINTS = 2000;
    /** The most points of one series a request may ask for. */
    public static final int MAX_POINTS = 100_000;

    /**
     * @param pointsTotal how many points the series has; more than {@code points} when it was thinned
     */
    public record Series(String name, List<Point> points, @JsonProperty("points_total") long pointsTotal) {}

    public record Point(long step, long tokens, double value) {}
}
