package dev.consort.job;

import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.UUID;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;

import io.swagger.v3.oas.annotations.media.Schema;
import tools.jackson.databind.JsonNode;

/** A job as the API shows it. */
@JsonInclude(JsonInclude.Include.ALWAYS)
public record JobView(
        UUID id,
        String type,
        String name,
        @Schema(allowableValues = {"queued", "running", "cancelling", "succeeded", "failed", "cancelled"})
        String status,
        String device,
        int priority,
        JsonNode spec,
        int attempts,
        @JsonProperty("max_attempts") int maxAttempts,
        @JsonProperty("cancel_requested") boolean cancelRequested,
        @Schema(description = "Latest progress report (step, tokens, loss, tokens/s, ETA, ...)")
        JsonNode progress,
        @Schema(description = "The job's result, once succeeded; null in list pages and with with_result=false")
        JsonNode result,
        JobError error,
        @JsonProperty("created_at") OffsetDateTime createdAt,
        @JsonProperty("started_at") OffsetDateTime startedAt,
        @JsonProperty("finished_at") OffsetDateTime finishedAt,
        @JsonProperty("updated_at") @Schema(description = "When anything shown here last changed (a lease's "
                + "heartbeat does not count)") OffsetDateTime updatedAt) {

    /** The view's weak ETag: it changes whenever {@code updated_at} or the status does, as every write sets them. */
    public String etag() {
        return etag(updatedAt, status);
    }

    /** The ETag of a job's view from its {@code updated_at} and status alone, without reading the rest of the row. */
    static String etag(OffsetDateTime updatedAt, String status) {
        Instant at = updatedAt.toInstant();
        return "W/\"" + (at.getEpochSecond() * 1_000_000 + at.getNano() / 1000) + "-" + status + "\"";
    }

    /** Why a job failed: a stable {@code code} and a message for people. */
    public record JobError(String code, String message) {}
}
