package dev.consort.job;

import java.util.List;
import java.util.UUID;

import com.fasterxml.jackson.annotation.JsonProperty;

/** A job's loss curves: one series per name ({@code train}, {@code validation}, router curves, ...). */
public record LossCurves(@JsonProperty("job_id") UUID jobId, List<Series> series) {

    public record Series(String name, List<Point> points) {}

    public record Point(long step, long tokens, double value) {}
}
