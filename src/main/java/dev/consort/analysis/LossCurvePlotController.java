package dev.consort.analysis;

import java.util.List;
import java.util.UUID;

import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

import dev.consort.job.JobRepository;
import dev.consort.job.JobView;
import dev.consort.job.LossCurves;
import dev.consort.web.ApiProblem;
import io.swagger.v3.oas.annotations.Hidden;

/**
 * A job's loss curves as a picture: {@code GET /jobs/{id}/losses} with {@code Accept: image/png} (or
 * {@code image/svg+xml}), or with {@code ?format=png|svg} for an {@code <img>} tag. The JSON form and
 * the contract entry live with the job API.
 */
@Hidden
@RestController
class LossCurvePlotController {

    private final JobRepository jobs;

    LossCurvePlotController(JobRepository jobs) {
        this.jobs = jobs;
    }

    @GetMapping(path = "/jobs/{id}/losses", produces = {MediaType.IMAGE_PNG_VALUE, "image/svg+xml"})
    ResponseEntity<?> negotiated(@PathVariable UUID id, @RequestParam(required = false) String series,
            @org.springframework.web.bind.annotation.RequestHeader(name = "Accept") String accept) {
        return plot(id, series, accept.contains("image/svg") && !accept.contains("image/png") ? "svg" : "png");
    }

    @GetMapping(path = "/jobs/{id}/losses", params = "format")
    ResponseEntity<?> byFormat(@PathVariable UUID id, @RequestParam(required = false) String series,
            @RequestParam String format) {
        return plot(id, series, format.toLowerCase());
    }

    private ResponseEntity<?> plot(UUID id, String series, String format) {
        if (!format.equals("png") && !format.equals("svg")) {
            throw ApiProblem.badRequest("format", "must be png or svg, got '" + format + "'");
        }
        JobView job = jobs.find(id).orElseThrow(() -> ApiProblem.notFound("job", id));
        LossCurves curves = jobs.losses(id, series);
        List<LinePlot.Series> lines = curves.series().stream().map(s -> new LinePlot.Series(s.name(),
                s.points().stream().mapToDouble(LossCurves.Point::step).toArray(),
                s.points().stream().mapToDouble(LossCurves.Point::value).toArray(),
                s.points().size() > 40 ? LinePlot.Mark.LINE : LinePlot.Mark.LINE_AND_POINTS)).toList();
        String title = "Loss of " + job.type() + " job " + (job.name() != null ? job.name() : id.toString().substring(0, 8));
        LinePlot plot = new LinePlot(title, "step", "cross-entropy (nats)", lines);
        return format.equals("svg")
                ? ResponseEntity.ok().contentType(CkaController.IMAGE_SVG).body(plot.svg())
                : ResponseEntity.ok().contentType(MediaType.IMAGE_PNG).body(plot.png());
    }
}
