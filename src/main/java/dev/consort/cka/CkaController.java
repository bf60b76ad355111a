package dev.consort.cka;

import java.util.Map;
import java.util.UUID;

import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

import dev.consort.checkpoint.CheckpointCatalog;
import dev.consort.database.TimeOrderedIds;
import dev.consort.dataset.DatasetService;
import dev.consort.job.JobRepository;
import dev.consort.job.JobView;
import dev.consort.plot.Heatmap;
import dev.consort.plot.ImageFormat;
import dev.consort.web.ApiProblem;
import dev.consort.web.ProblemType;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.Parameter;
import io.swagger.v3.oas.annotations.media.Content;
import io.swagger.v3.oas.annotations.media.Schema;
import io.swagger.v3.oas.annotations.responses.ApiResponse;
import io.swagger.v3.oas.annotations.tags.Tag;
import tools.jackson.databind.json.JsonMapper;

@Tag(name = "jobs")
@RestController
class CkaController {

    private final JobRepository jobs;
    private final CkaResultStore results;
    private final CheckpointCatalog checkpoints;
    private final DatasetService datasets;
    private final JsonMapper json;

    CkaController(JobRepository jobs, CkaResultStore results, CheckpointCatalog checkpoints, DatasetService datasets,
            JsonMapper json) {
        this.jobs = jobs;
        this.results = results;
        this.checkpoints = checkpoints;
        this.datasets = datasets;
        this.json = json;
    }

    @Operation(operationId = "getJobCka", summary = "A cka job's similarity matrices",
            description = "JSON by default; a heatmap (one panel per matrix, viridis, colour bar) with "
                    + "Accept: image/png or image/svg+xml, or ?format=png / ?format=svg.")
    @ApiResponse(responseCode = "200", description = "The matrices", content = {
            @Content(mediaType = "application/json", schema = @Schema(implementation = CkaView.class)),
            @Content(mediaType = "image/png", schema = @Schema(type = "string", format = "binary")),
            @Content(mediaType = ImageFormat.SVG_VALUE, schema = @Schema(type = "string"))})
    @GetMapping(path = "/jobs/{id}/cka", produces = {MediaType.APPLICATION_JSON_VALUE, MediaType.IMAGE_PNG_VALUE,
            ImageFormat.SVG_VALUE})
    ResponseEntity<?> cka(@PathVariable UUID id,
            @Parameter(description = "png or svg: the heatmap whatever the Accept header says")
            @RequestParam(required = false) String format,
            @Parameter(hidden = true) @org.springframework.web.bind.annotation.RequestHeader(name = "Accept",
                    required = false) String accept) {
        JobView job = jobs.find(id).orElseThrow(() -> ApiProblem.notFound("job", id));
        if (!"cka".equals(job.type())) {
            throw new ApiProblem(HttpStatus.NOT_FOUND, ProblemType.NOT_FOUND,
                    "Job " + id + " is a " + job.type() + " job; CKA matrices come from cka jobs");
        }
        if (!"succeeded".equals(job.status())) {
            throw new ApiProblem(HttpStatus.CONFLICT, ProblemType.CONFLICT,
                    "Job " + id + " is " + job.status() + "; its matrices appear when it has succeeded");
        }
        CkaSpec spec = json.treeToValue(job.spec(), CkaSpec.class);
        Map<String, CkaMatrix> matrices = results.load(id);
        return ImageFormat.requested(format, accept)
                .<ResponseEntity<?>>map(image -> image.response(heatmap(spec, matrices)))
                .orElseGet(() -> ResponseEntity.ok().contentType(MediaType.APPLICATION_JSON)
                        .body(view(job, spec, matrices)));
    }

    private CkaView view(JobView job, CkaSpec spec, Map<String, CkaMatrix> matrices) {
        Map<String, double[][]> values = new java.util.LinkedHashMap<>();
        matrices.forEach((name, matrix) -> values.put(name, matrix.toArray()));
        var result = job.result();
        return new CkaView(job.id(), spec.modelAId(), spec.modelBId(), spec.datasetId(),
                spec.split() == null ? "validation" : spec.split(),
                spec.representation() == null ? "mlp" : spec.representation(),
                spec.pooling() == null ? "token" : spec.pooling(),
                spec.estimator() == null ? "linear" : spec.estimator(),
                result.path("context").asInt(), result.path("windows").asInt(), result.path("rows").asLong(),
                result.path("layers_a").asInt(), result.has("layers_b") ? result.path("layers_b").asInt() : null,
                values);
    }

    private Heatmap heatmap(CkaSpec spec, Map<String, CkaMatrix> matrices) {
        CkaEstimator estimator = CkaEstimator.named(spec.estimator() == null ? "linear" : spec.estimator());
        String modelA = label(spec.modelAId());
        String dataset = datasetLabel(spec.datasetId());
        if (spec.modelBId() == null) {
            return CkaHeatmaps.forModel(modelA, dataset, estimator, matrices.get("intra_a"));
        }
        return CkaHeatmaps.forModelPair(modelA, label(spec.modelBId()), dataset, estimator,
                matrices.get("intra_a"), matrices.get("intra_b"), matrices.get("inter"));
    }

    /** A checkpoint's name, or its short id when it has none (or was deleted since). */
    private String label(UUID checkpoint) {
        try {
            String name = checkpoints.find(checkpoint).name();
            return name != null ? name : TimeOrderedIds.shortForm(checkpoint);
        } catch (ApiProblem gone) {
            return TimeOrderedIds.shortForm(checkpoint);
        }
    }

    private String datasetLabel(UUID dataset) {
        try {
            String name = datasets.get(dataset).getName();
            return name != null ? name : TimeOrderedIds.shortForm(dataset);
        } catch (ApiProblem gone) {
            return TimeOrderedIds.shortForm(dataset);
        }
    }

}
