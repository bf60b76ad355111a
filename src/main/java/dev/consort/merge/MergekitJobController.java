package dev.consort.merge;

import java.net.URI;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
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
import dev.consort.job.JobSubmission;
import dev.consort.job.JobSubmissionService;
import dev.consort.job.JobView;
import dev.consort.merge.weights.InvalidMergeException;
import dev.consort.merge.weights.MergekitConfig;
import dev.consort.merge.weights.WeightMergeMethod;
import dev.consort.merge.weights.WeightMergeMethods;
import dev.consort.merge.weights.WeightMergeRequest;
import dev.consort.web.ApiProblem;
import dev.consort.web.ApiProblem.FieldError;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.Parameter;
import io.swagger.v3.oas.annotations.tags.Tag;
import tools.jackson.databind.json.JsonMapper;

/**
 * {@code POST /jobs} with a mergekit YAML body: the config becomes a merge job exactly like the same merge
 * sent as JSON. Model references are checkpoint ids or names; what the YAML cannot say (the datasets to
 * evaluate on) comes as query parameters.
 */
@Tag(name = "jobs")
@RestController
class MergekitJobController {

    private final JobSubmissionService submissions;
    private final CheckpointCatalog checkpoints;
    private final JsonMapper json;

    MergekitJobController(JobSubmissionService submissions, CheckpointCatalog checkpoints, JsonMapper json) {
        this.submissions = submissions;
        this.checkpoints = checkpoints;
        this.json = json;
    }

    @Operation(operationId = "createMergeJobFromMergekit", summary = "Launch a merge job from a mergekit YAML config",
            description = "Weight-space methods only (merge_method, base_model, models with parameters, scalar, "
                    + "per-layer gradient and filter values). Models are checkpoint ids or names. Unsupported keys are "
                    + "422s naming them.")
    @PostMapping(path = "/jobs", consumes = {"application/yaml", "application/x-yaml", "text/yaml"},
            produces = MediaType.APPLICATION_JSON_VALUE)
    ResponseEntity<JobView> submit(@RequestBody String yaml,
            @Parameter(description = "Datasets to evaluate the merged checkpoint on (repeat the parameter)")
            @RequestParam(name = "eval_dataset_id") List<UUID> evalDatasetIds,
            @RequestParam(required = false) String name,
            @RequestParam(required = false) Long seed,
            @RequestHeader(name = "Idempotency-Key", required = false) String idempotencyKey) {
        WeightMergeRequest request;
        try {
            request = MergekitConfig.parse(yaml);
        } catch (InvalidMergeException e) {
            throw ApiProblem.invalid(e.problems().stream().map(p -> new FieldError(p.field(), p.message())).toList());
        }
        WeightMergeMethod method = WeightMergeMethods.byName(request.method()).orElseThrow(() ->
                ApiProblem.invalidField("merge_method", "unknown method '" + request.method() + "'; one of "
                        + WeightMergeMethods.names()));
        List<FieldError> errors = new ArrayList<>();
        UUID base = request.baseModel() == null ? null : resolve(request.baseModel(), "base_model", errors);
        List<UUID> experts = new ArrayList<>();
        List<Map<String, Object>> perModel = new ArrayList<>();
        List<?> described = (List<?>) request.describe().get("models");
        for (int i = 0; i < request.models().size(); i++) {
            UUID id = resolve(request.models().get(i).model(), "models[" + i + "].model", errors);
            // A task-vector method's models entry naming the base is the base itself, not an expert.
            if (id != null && id.equals(base) && method.baseModelRole() == WeightMergeMethod.BaseModelRole.ORIGIN) {
                continue;
            }
            experts.add(id);
            Object parameters = ((Map<?, ?>) described.get(i)).get("parameters");
            @SuppressWarnings("unchecked")
            Map<String, Object> own = parameters == null ? Map.of() : (Map<String, Object>) parameters;
            perModel.add(own);
        }
        if (!errors.isEmpty()) {
            throw ApiProblem.invalid(errors);
        }
        // slerp's base_model is its t = 0 end: the first expert.
        if (base != null && method.baseModelRole() == WeightMergeMethod.BaseModelRole.FIRST_MODEL && !experts.contains(base)) {
            experts.add(0, base);
            perModel.add(0, Map.of());
        }
        Map<String, Object> methodEntry = new LinkedHashMap<>();
        methodEntry.put("method", request.method());
        Object global = request.describe().get("parameters");
        if (global != null) {
            methodEntry.put("parameters", global);
        }
        if (perModel.stream().anyMatch(m -> !m.isEmpty())) {
            methodEntry.put("model_parameters", perModel);
        }
        Map<String, Object> spec = new LinkedHashMap<>();
        if (base != null && method.baseModelRole() == WeightMergeMethod.BaseModelRole.ORIGIN) {
            spec.put("base_checkpoint_id", base);
        }
        spec.put("expert_ids", experts);
        spec.put("methods", List.of(methodEntry));
        spec.put("eval_dataset_ids", evalDatasetIds);
        if (seed != null) {
            spec.put("seed", seed);
        }
        JobSubmission submission = new JobSubmission("merge", name, null, null, null, json.valueToTree(spec));
        JobSubmissionService.Submitted submitted = submissions.submit(submission, idempotencyKey);
        return ResponseEntity.status(submitted.replayed() ? HttpStatus.OK : HttpStatus.CREATED)
                .location(URI.create("/jobs/" + submitted.job().id()))
                .body(submitted.job());
    }

    /** A checkpoint id, or the name of exactly one of the tenant's checkpoints. */
    private UUID resolve(String reference, String field, List<FieldError> errors) {
        try {
            return checkpoints.find(UUID.fromString(reference)).id();
        } catch (IllegalArgumentException notAnId) {
            List<UUID> named = checkpoints.idsNamed(reference);
            if (named.size() == 1) {
                return named.get(0);
            }
            errors.add(new FieldError(field, named.isEmpty() ? "no checkpoint with id or name '" + reference + "'"
                    : named.size() + " checkpoints are named '" + reference + "'; use an id"));
        } catch (ApiProblem missing) {
            errors.add(new FieldError(field, "no checkpoint with id '" + reference + "'"));
        }
        return null;
    }
}
