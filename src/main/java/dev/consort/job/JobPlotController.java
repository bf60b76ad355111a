package dev.consort.job;

import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.stream.Collectors;

import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.RequestHeader;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

import dev.consort.plot.ImageFormat;
import dev.consort.web.ApiProblem;
import dev.consort.web.ProblemType;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.Parameter;
import io.swagger.v3.oas.annotations.media.Content;
import io.swagger.v3.oas.annotations.media.Schema;
import io.swagger.v3.oas.annotations.responses.ApiResponse;
import io.swagger.v3.oas.annotations.tags.Tag;

/** Serves every {@link JobPlot} bean by job type and name. */
@Tag(name = "jobs")
@RestController
class JobPlotController {

    private final JobRepository jobs;
    /** Job type → plot name → plot. */
    private final Map<String, Map<String, JobPlot>> plots;

    JobPlotController(JobRepository jobs, List<JobPlot> plots) {
        this.jobs = jobs;
        this.plots = plots.stream().collect(Collectors.groupingBy(JobPlot::jobType, TreeMap::new,
                Collectors.toMap(JobPlot::name, p -> p, (a, b) -> {
                    throw new IllegalStateException("two plots named " + a.name() + " for " + a.jobType() + " jobs");
                }, TreeMap::new)));
    }

    /** The plots each job type has, by name (for the API description). */
    Map<String, List<String>> names() {
        Map<String, List<String>> names = new TreeMap<>();
        plots.forEach((type, byName) -> names.put(type, List.copyOf(byName.keySet())));
        return names;
    }

    @Operation(operationId = "getJobPlot", summary = "A plot of a job's results",
            description = "Drawn from a succeeded job's result, as PNG (default) or SVG.")
    @ApiResponse(responseCode = "200", description = "The plot", content = {
            @Content(mediaType = "image/png", schema = @Schema(type = "string", format = "binary")),
            @Content(mediaType = ImageFormat.SVG_VALUE, schema = @Schema(type = "string"))})
    @GetMapping(path = "/jobs/{id}/plots/{plot}", produces = {MediaType.IMAGE_PNG_VALUE, ImageFormat.SVG_VALUE})
    ResponseEntity<?> plot(@PathVariable UUID id, @PathVariable String plot,
            @Parameter(description = "png or svg, whatever the Accept header says")
            @RequestParam(required = false) String format,
            @Parameter(hidden = true) @RequestHeader(name = "Accept", required = false) String accept) {
        ImageFormat image = ImageFormat.requested(format, accept).orElse(ImageFormat.PNG);
        JobView job = jobs.find(id).orElseThrow(() -> ApiProblem.notFound("job", id));
        Map<String, JobPlot> ofType = plots.get(job.type());
        if (ofType == null) {
            throw new ApiProblem(HttpStatus.NOT_FOUND, ProblemType.NOT_FOUND, "Job " + id + " is a " + job.type()
                    + " job, which has no plots; jobs with plots: " + plots.keySet());
        }
        if (!JobStatus.SUCCEEDED.value().equals(job.status())) {
            throw new ApiProblem(HttpStatus.CONFLICT, ProblemType.CONFLICT,
                    "Job " + id + " is " + job.status() + "; its plots appear when it has succeeded");
        }
        JobPlot chosen = ofType.get(plot);
        if (chosen == null) {
            throw new ApiProblem(HttpStatus.NOT_FOUND, ProblemType.NOT_FOUND,
                    "No plot '" + plot + "'; a " + job.type() + " job has " + String.join(", ", ofType.keySet()));
        }
        return image.response(chosen.draw(job));
    }
}
