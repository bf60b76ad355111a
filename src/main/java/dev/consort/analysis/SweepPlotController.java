package dev.consort.analysis;

import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

import dev.consort.job.JobRepository;
import dev.consort.job.JobView;
import dev.consort.web.ApiProblem;
import dev.consort.web.ProblemType;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.media.Content;
import io.swagger.v3.oas.annotations.media.Schema;
import io.swagger.v3.oas.annotations.responses.ApiResponse;
import io.swagger.v3.oas.annotations.tags.Tag;
import tools.jackson.databind.JsonNode;

@Tag(name = "jobs")
@RestController
class SweepPlotController {

    private final JobRepository jobs;

    SweepPlotController(JobRepository jobs) {
        this.jobs = jobs;
    }

    @Operation(operationId = "getSweepPlot", summary = "A sweep job's plots",
            description = "merge-loss-vs-step (with the experts alone and the critical step marked), cka-vs-step or "
                    + "merge-loss-vs-cka, as PNG or SVG.")
    @ApiResponse(responseCode = "200", description = "The plot", content = {
            @Content(mediaType = "image/png", schema = @Schema(type = "string", format = "binary")),
            @Content(mediaType = "image/svg+xml", schema = @Schema(type = "string"))})
    @GetMapping(path = "/jobs/{id}/plots/{plot}", produces = {MediaType.IMAGE_PNG_VALUE, "image/svg+xml"})
    ResponseEntity<?> plot(@PathVariable UUID id, @PathVariable String plot,
            @RequestParam(required = false, defaultValue = "png") String format) {
        JobView job = jobs.find(id).orElseThrow(() -> ApiProblem.notFound("job", id));
        if (!"sweep".equals(job.type())) {
            throw new ApiProblem(HttpStatus.NOT_FOUND, ProblemType.NOT_FOUND, "Job " + id + " is not a sweep job");
        }
        if (!"succeeded".equals(job.status())) {
            throw new ApiProblem(HttpStatus.CONFLICT, ProblemType.CONFLICT,
                    "Job " + id + " is " + job.status() + "; its plots appear when it has succeeded");
        }
        JsonNode rows = job.result().path("rows");
        double[] steps = column(rows, "step");
        double[] loss = column(rows, "merge_loss");
        LinePlot chart = switch (plot) {
            // The experts alone on the same windows: the merge pays where its line is below both.
            case "merge-loss-vs-step" -> new LinePlot("Best activation-interpolation loss along fine-tuning", "step",
                    "loss on the adaptation data (nats)", List.of(
                            new LinePlot.Series("merge (best α)", steps, loss, LinePlot.Mark.LINE_AND_POINTS),
                            new LinePlot.Series("expert A alone", steps, column(rows, "expert_a_loss"), LinePlot.Mark.LINE),
                            new LinePlot.Series("expert B alone", steps, column(rows, "expert_b_loss"), LinePlot.Mark.LINE)),
                    List.of(new LinePlot.Marker(job.result().path("critical_step").asDouble(), "critical step")));
            case "cka-vs-step" -> new LinePlot("CKA between the specialists along fine-tuning", "step", "CKA",
                    List.of(new LinePlot.Series("adaptation data", steps, column(rows, "cka_adaptation"),
                                    LinePlot.Mark.LINE_AND_POINTS),
                            new LinePlot.Series("reference data", steps, column(rows, "cka_reference"),
                                    LinePlot.Mark.LINE_AND_POINTS)),
                    List.of(new LinePlot.Marker(job.result().path("critical_step").asDouble(), "critical step")));
            case "merge-loss-vs-cka" -> new LinePlot("Merge loss against CKA between the specialists", "CKA",
                    "merge loss (nats)", List.of(
                            new LinePlot.Series("adaptation data", column(rows, "cka_adaptation"), loss, LinePlot.Mark.POINTS),
                            new LinePlot.Series("reference data", column(rows, "cka_reference"), loss, LinePlot.Mark.POINTS)));
            default -> throw new ApiProblem(HttpStatus.NOT_FOUND, ProblemType.NOT_FOUND,
                    "No plot '" + plot + "'; a sweep has merge-loss-vs-step, cka-vs-step and merge-loss-vs-cka");
        };
        return switch (format) {
            case "png" -> ResponseEntity.ok().contentType(MediaType.IMAGE_PNG).body(chart.png());
            case "svg" -> ResponseEntity.ok().contentType(CkaController.IMAGE_SVG).body(chart.svg());
            default -> throw ApiProblem.badRequest("format", "must be png or svg, got '" + format + "'");
        };
    }

    private static double[] column(JsonNode rows, String name) {
        List<Double> values = new ArrayList<>();
        rows.forEach(row -> values.add(row.path(name).asDouble()));
        return values.stream().mapToDouble(Double::doubleValue).toArray();
    }
}
