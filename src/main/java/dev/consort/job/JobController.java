package dev.consort.job;

import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ProblemDetail;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestHeader;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.context.request.WebRequest;
import org.springframework.web.servlet.mvc.method.annotation.SseEmitter;

import dev.consort.tenant.CurrentTenant;
import dev.consort.web.ApiProblem;
import dev.consort.web.CursorPage;
import dev.consort.web.ProblemType;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.Parameter;
import io.swagger.v3.oas.annotations.media.Content;
import io.swagger.v3.oas.annotations.media.Schema;
import io.swagger.v3.oas.annotations.responses.ApiResponse;
import io.swagger.v3.oas.annotations.tags.Tag;
import tools.jackson.databind.JsonNode;

@Tag(name = "jobs", description = "Launch and follow pretrain, finetune, evaluate, merge, cka and sweep jobs")
@RestController
@RequestMapping("/jobs")
class JobController {

    private final JobSubmissionService submissions;
    private final JobRepository jobs;
    private final JobEventStreams streams;

    JobController(JobSubmissionService submissions, JobRepository jobs, JobEventStreams streams) {
        this.submissions = submissions;
        this.jobs = jobs;
        this.streams = streams;
    }

    @Operation(operationId = "createJob", summary = "Launch a job",
            description = "The spec is validated against the job type before anything is stored. Send an "
                    + "Idempotency-Key header to make retries safe: the same key and body return the same job.")
    @ApiResponse(responseCode = "201", description = "Queued")
    @ApiResponse(responseCode = "200", description = "Replay: this Idempotency-Key already created the job")
    @ApiResponse(responseCode = "400", description = "Not readable JSON, or beyond a JSON limit (nesting depth 64, "
            + "numbers of 100 digits); the detail names the limit",
            content = @Content(mediaType = "application/problem+json", schema = @Schema(implementation = ProblemDetail.class)))
    @ApiResponse(responseCode = "413", description = "The body is larger than consort.limits.request-body (1 MB)",
            content = @Content(mediaType = "application/problem+json", schema = @Schema(implementation = ProblemDetail.class)))
    @PostMapping(consumes = MediaType.APPLICATION_JSON_VALUE, produces = MediaType.APPLICATION_JSON_VALUE)
    ResponseEntity<JobView> submit(@RequestBody JobSubmission submission,
            @Parameter(description = "Makes retries safe: the same key and body return the first job")
            @RequestHeader(name = "Idempotency-Key", required = false) String idempotencyKey) {
        JobSubmissionService.Submitted submitted = submissions.submit(submission, idempotencyKey);
        JobView job = submitted.job();
        return ResponseEntity.status(submitted.replayed() ? HttpStatus.OK : HttpStatus.CREATED)
                .location(URI.create("/jobs/" + job.id()))
                .body(job);
    }

    @Operation(operationId = "listJobs", summary = "List jobs, newest first")
    @GetMapping(produces = MediaType.APPLICATION_JSON_VALUE)
    CursorPage<JobView> list(
            @Parameter(description = "queued, running, cancelling, succeeded, failed or cancelled")
            @RequestParam(required = false) String status,
            @RequestParam(required = false) String type,
            @Parameter(description = "next_after of the previous page") @RequestParam(required = false) UUID after,
            @RequestParam(required = false) Integer limit) {
        int checked = CursorPage.checkedLimit(limit);
        JobStatus wanted = status == null ? null : JobStatus.parse(status).orElseThrow(() ->
                ApiProblem.badRequest("status", "unknown status '" + status + "'"));
        return CursorPage.of(jobs.list(wanted, type, after, checked + 1), checked, j -> j, j -> j.id().toString());
    }

    @Operation(operationId = "getJob", summary = "Get a job",
            description = "Answers with a weak ETag that changes whenever the job does: a client polling with "
                    + "If-None-Match gets 304 Not Modified, with no body, until then. with_result=false leaves out "
                    + "the result (read it once, when the job has ended).")
    @ApiResponse(responseCode = "200", description = "The job",
            content = @Content(mediaType = MediaType.APPLICATION_JSON_VALUE, schema = @Schema(implementation = JobView.class)))
    @ApiResponse(responseCode = "304", description = "Not modified since the ETag sent in If-None-Match",
            content = @Content)
    @GetMapping(path = "/{id}", produces = MediaType.APPLICATION_JSON_VALUE)
    ResponseEntity<JobView> get(@PathVariable UUID id,
            @Parameter(description = "false: the job without its result (null)") @RequestParam(name = "with_result",
                    required = false, defaultValue = "true") boolean withResult,
            WebRequest request) {
        // Only a poller that sent an ETag needs the small query first; everyone else reads the row once.
        if (request.getHeader(HttpHeaders.IF_NONE_MATCH) != null
                && request.checkNotModified(jobs.etag(id).orElseThrow(() -> ApiProblem.notFound("job", id)))) {
            return null;
        }
        JobView job = jobs.find(id, withResult).orElseThrow(() -> ApiProblem.notFound("job", id));
        return ResponseEntity.ok().eTag(job.etag()).body(job);
    }

    @Operation(operationId = "cancelJob", summary = "Cancel a job",
            description = "A queued job is cancelled at once; a running one moves to cancelling and stops at its next step.")
    @ApiResponse(responseCode = "202", description = "Cancelled, or cancellation requested")
    @PostMapping(path = "/{id}/cancel", produces = MediaType.APPLICATION_JSON_VALUE)
    ResponseEntity<JobView> cancel(@PathVariable UUID id) {
        JobStatus status = jobs.requestCancel(id).orElseThrow(() -> ApiProblem.notFound("job", id));
        if (status == JobStatus.SUCCEEDED || status == JobStatus.FAILED) {
            throw new ApiProblem(HttpStatus.CONFLICT, ProblemType.CONFLICT,
                    "Job " + id + " already " + status.value() + "; there is nothing to cancel");
        }
        return ResponseEntity.accepted().body(jobs.find(id).orElseThrow(() -> ApiProblem.notFound("job", id)));
    }

    @Operation(operationId = "listJobEvents", summary = "A job's events, oldest first",
            description = "Page with after=<last event id>. With Accept: text/event-stream the same events stream "
                    + "as Server-Sent Events, replaying after Last-Event-ID.")
    @GetMapping(path = "/{id}/events", produces = MediaType.APPLICATION_JSON_VALUE)
    CursorPage<JobEventView> events(@PathVariable UUID id,
            @Parameter(description = "Return events with a larger id") @RequestParam(required = false) Long after,
            @RequestParam(required = false) Integer limit) {
        requireJob(id);
        int checked = CursorPage.checkedLimit(limit);
        return CursorPage.of(jobs.events(id, after == null ? 0 : after, checked + 1), checked, e -> e,
                e -> Long.toString(e.id()));
    }

    @Operation(operationId = "streamJobEvents", summary = "Stream a job's events (Server-Sent Events)",
            description = "Open streams are bounded per api process: consort.limits.event-streams in all, "
                    + "consort.limits.event-streams-per-tenant per tenant.")
    @ApiResponse(responseCode = "200", description = "The stream; it ends when the job has finished")
    @ApiResponse(responseCode = "429", description = "The tenant has event-streams-per-tenant streams open "
            + "(too-many-requests); Retry-After says when to retry",
            content = @Content(mediaType = "application/problem+json", schema = @Schema(implementation = ProblemDetail.class)))
    @ApiResponse(responseCode = "503", description = "event-streams streams are open (capacity-exceeded); "
            + "Retry-After says when to retry, or page the JSON form",
            content = @Content(mediaType = "application/problem+json", schema = @Schema(implementation = ProblemDetail.class)))
    @GetMapping(path = "/{id}/events", produces = MediaType.TEXT_EVENT_STREAM_VALUE)
    SseEmitter eventStream(@PathVariable UUID id,
            @RequestHeader(name = "Last-Event-ID", required = false) String lastEventId,
            @RequestParam(required = false) Long after) {
        requireJob(id);
        long cursor = after == null ? 0 : after;
        if (lastEventId != null && !lastEventId.isBlank()) {
            try {
                cursor = Long.parseLong(lastEventId.trim());
            } catch (NumberFormatException e) {
                throw ApiProblem.badRequest("Last-Event-ID", "must be an event id, got '" + lastEventId + "'");
            }
        }
        return streams.open(id, cursor, CurrentTenant.orDefault());
    }

    @Operation(operationId = "getJobLosses", summary = "A job's loss curves", description = "Points {step, tokens, "
            + "value} per series (train, validation, ...). A series of more than max_points points is evenly thinned "
            + "(its first and last kept); points_total says how many it has.")
    @GetMapping(path = "/{id}/losses", produces = MediaType.APPLICATION_JSON_VALUE)
    LossCurves losses(@PathVariable UUID id, @RequestParam(required = false) String series,
            @Parameter(description = "Most points per series (2 to 100000, default 2000)")
            @RequestParam(name = "max_points", required = false) Integer maxPoints) {
        requireJob(id);
        return jobs.losses(id, series, maxPoints(maxPoints));
    }

    /** The request's max_points, checked: a 400 naming it when out of range. */
    static int maxPoints(Integer requested) {
        if (requested == null) {
            return LossCurves.DEFAULT_MAX_POINTS;
        }
        if (requested < 2 || requested > LossCurves.MAX_POINTS) {
            throw ApiProblem.badRequest("max_points", "must be between 2 and " + LossCurves.MAX_POINTS);
        }
        return requested;
    }

    @Operation(operationId = "getJobResults", summary = "A job's results table",
            description = "The rows of an evaluate or merge job (model, dataset, loss, tokens, ...), once it succeeded.")
    @GetMapping(path = "/{id}/results", produces = MediaType.APPLICATION_JSON_VALUE)
    JobResults results(@PathVariable UUID id) {
        JobView job = jobs.find(id).orElseThrow(() -> ApiProblem.notFound("job", id));
        JsonNode rows = job.result() == null ? null : job.result().get("rows");
        if (!JobStatus.SUCCEEDED.value().equals(job.status())) {
            throw new ApiProblem(HttpStatus.CONFLICT, ProblemType.CONFLICT, "Job " + id + " is " + job.status()
                    + "; its results appear when it has succeeded");
        }
        if (rows == null || !rows.isArray()) {
            throw new ApiProblem(HttpStatus.NOT_FOUND, ProblemType.NOT_FOUND,
                    "A " + job.type() + " job has no results table; see its result and loss curves");
        }
        List<JsonNode> table = new ArrayList<>();
        rows.forEach(table::add);
        return new JobResults(id, job.type(), table);
    }

    private void requireJob(UUID id) {
        if (jobs.find(id).isEmpty()) {
            throw ApiProblem.notFound("job", id);
        }
    }
}
