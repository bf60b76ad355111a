package dev.consort.job;

import java.time.OffsetDateTime;

import com.fasterxml.jackson.annotation.JsonProperty;

import io.swagger.v3.oas.annotations.media.Schema;
import tools.jackson.databind.JsonNode;

/** One entry of a job's event log; {@code id} is the cursor (and the SSE event id). */
public record JobEventView(
        long id,
        @Schema(description = "queued, started, progress, checkpoint, requeued, released, succeeded, failed, cancelled, ...")
        String kind,
        String message,
        JsonNode data,
        @JsonProperty("created_at") OffsetDateTime createdAt) {
}
