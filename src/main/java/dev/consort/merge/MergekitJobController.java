package dev.consort.merge;

import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestHeader;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

import dev.consort.checkpoint.CheckpointCatalog;
import dev.consort.job.InvalidSpecException;
import dev.consort.job.JobSubmission;
import dev.consort.job.JobSubmissionService;
import dev.consort.job.JobView;
import dev.consort.merge.weights.InvalidMergeException;
import dev.consort.merge.weights.MergekitConfig;
import dev.consort.merge.weights.WeightMergeRequest;
import dev.consort.web.ApiProblem.FieldError;
import dev.consort.web.ApiProblem;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.Parameter;
import io.swagger.v3.oas.annotations.tags.Tag;
import tools.jackson.databind.json.JsonMapper;

/**
 * {@code POST /jobs} with a mergekit YAML body: the config is planned directly ({@link MergePlanner#planMergekit})
 * into the same merge job as the equivalent JSON, whose spec the job then shows. Model references are checkpoint
 * ids or names; what the YAML cannot say (the datasets to evaluate on) comes as query parameters.
 */
@Tag(name = "jobs")
@RestController
class MergekitJobController {

    private final JobSubmissionService submissions;
    private final CheckpointCatalog checkpoints;
    private final MergePlanner planner;
    private final JsonMapper json;

    MergekitJobController(JobSubmissionService submissions, CheckpointCatalog checkpoints, MergePlanner planner,
            JsonMapper json) {
        this.submissions = submissions;
        this.checkpoints = checkpoints;
        this.planner = planner;
        this.json = json;
    }

    @Operation(operationId = "createMergeJobFromMergekit", summary = "Launch a merge job from a mergekit YAML config",
            description = "Weight-space methods only (merge_method, base_model, models with parameters, scalar, "
                    + "per-layer gradient and filter values). Models are checkpoint ids or names. Unsupported keys are "
                    + "422s naming them.")
    @PostMapping(path = "/jobs", consumes = {"application/yaml", "application/x-yaml", "text/yaml"},
            produces = MediaType.APPLICATION_JSON_VALUE)
    ResponseEntity<JobView> submit(@RequestBody String yaml,
            @Parameter(description = "With a mergekit YAML body (required there): the datasets to evaluate the merged "
                    + "checkpoint on; repeat the parameter")
            @RequestParam(name = "eval_dataset_id", required = false) List<UUID> evalDatasetIds,
            @Parameter(description = "With a mergekit YAML body: the job's name")
            @RequestParam(required = false) String name,
            @Parameter(description = "With a mergekit YAML body: the merge's seed")
            @RequestParam(required = false) Long seed,
            @RequestHeader(name = "Idempotency-Key", required = false) String idempotencyKey) {
        if (evalDatasetIds == null || evalDatasetIds.isEmpty()) {
            throw ApiProblem.invalidField("eval_dataset_id", "is required with a mergekit YAML body: name the datasets "
                    + "to evaluate the merge on");
        }
        WeightMergeRequest config;
        try {
            config = MergekitConfig.parse(yaml);
        } catch (InvalidMergeException e) {
            throw ApiProblem.invalid(e.problems().stream().map(p -> new FieldError(p.field(), p.message())).toList());
        }
        List<FieldError> errors = new ArrayList<>();
        String base = config.baseModel() == null ? null : resolve(config.baseModel(), "base_model", errors);
        List<WeightMergeRequest.ModelEntry> models = new ArrayList<>();
        for (int i = 0; i < config.models().size(); i++) {
            WeightMergeRequest.ModelEntry entry = config.models().get(i);
            models.add(new WeightMergeRequest.ModelEntry(resolve(entry.model(), "models[" + i + "].model", errors),
                    entry.parameters()));
        }
        if (!errors.isEmpty()) {
            throw ApiProblem.invalid(errors);
        }
        MergePlan plan;
        try {
            plan = planner.planMergekit(new WeightMergeRequest(config.method(), base, models, config.parameters(),
                    config.layers(), config.outDtype()), evalDatasetIds, seed);
        } catch (InvalidSpecException e) {
            throw ApiProblem.invalid(e.errors());
        }
        JobSubmission submission = new JobSubmission("merge", name, null, null, null,
                json.valueToTree(MergePlanner.specOf(plan)));
        JobSubmissionService.Submitted submitted = submissions.submit(submission, plan, idempotencyKey);
        return ResponseEntity.status(submitted.replayed() ? HttpStatus.OK : HttpStatus.CREATED)
                .location(URI.create("/jobs/" + submitted.job().id()))
                .body(submitted.job());
    }

    /** The id of a checkpoint named by id or as the only one of the tenant's checkpoints with that name. */
    private String resolve(String reference, String field, List<FieldError> errors) {
        try {
            return checkpoints.find(UUID.fromString(reference)).id().toString();
        } catch (IllegalArgumentException notAnId) {
            List<UUID> named = checkpoints.idsNamed(reference);
            if (named.size() == 1) {
                return named.get(0).toString();
            }
            errors.add(new FieldError(field, named.isEmpty() ? "no checkpoint with id or name '" + reference + "'"
                    : named.size() + " checkpoints are named '" + reference + "'; use an id"));
        } catch (ApiProblem missing) {
            errors.add(new FieldError(field, "no checkpoint with id '" + reference + "'"));
        }
        return null;
    }
}
