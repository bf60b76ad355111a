package dev.consort.job;

import java.util.List;
import java.util.UUID;

import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.RequestHeader;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

import dev.consort.database.TimeOrderedIds;
import dev.consort.plot.ImageFormat;
import dev.consort.plot.LinePlot;
import dev.consort.web.ApiProblem;
import io.swagger.v3.oas.annotations.Hidden;

/**
 * A job's loss curves as a picture: {@code GET /jobs/{id}/losses} with {@code Accept: image/png} (or
 * {@code image/svg+xml}), or with {@code ?format=png|svg} for an {@code <img>} tag. The JSON form and its
 * contract entry are {@link JobController#losses}.
 */
@Hidden
@RestController
class LossCurvePlotController {

    private final JobRepository jobs;

    LossCurvePlotController(JobRepository jobs) {
        this.jobs = jobs;
    }

    @GetMapping(path = "/jobs/{id}/losses", produces = {MediaType.IMAGE_PNG_VALUE, ImageFormat.SVG_VALUE})
    ResponseEntity<?> negotiated(@PathVariable UUID id, @RequestParam(required = false) String series,
            @RequestParam(name = "max_points", required = false) Integer maxPoints,
            @RequestHeader(name = "Accept") String accept) {
        return plot(id, series, maxPoints, ImageFormat.requested(null, accept).orElse(ImageFormat.PNG));
    }

    @GetMapping(path = "/jobs/{id}/losses", params = "format")
    ResponseEntity<?> byFormat(@PathVariable UUID id, @RequestParam(required = false) String series,
            @RequestParam(name = "max_points", required = false) Integer maxPoints, @RequestParam String format) {
        return plot(id, series, maxPoints, ImageFormat.requested(format, null).orElseThrow());
    }

    private ResponseEntity<?> plot(UUID id, String series, Integer maxPoints, ImageFormat format) {
        JobView job = jobs.find(id).orElseThrow(() -> ApiProblem.notFound("job", id));
        LossCurves curves = jobs.losses(id, series, JobController.maxPoints(maxPoints));
        List<LinePlot.Series> lines = curves.series().stream().map(s -> new LinePlot.Series(s.name(),
                s.points().stream().mapToDouble(LossCurves.Point::step).toArray(),
                s.points().stream().mapToDouble(LossCurves.Point::value).toArray(),
                s.points().size() > 40 ? LinePlot.Mark.LINE : LinePlot.Mark.LINE_AND_POINTS)).toList();
        String title = "Loss of " + job.type() + " job " + (job.name() != null ? job.name() : TimeOrderedIds.shortForm(id));
        return format.response(new LinePlot(title, "step", "cross-entropy (nats)", lines));
    }
}
