package dev.consort.job;

import java.util.List;
import java.util.UUID;

import com.fasterxml.jackson.annotation.JsonProperty;

import io.swagger.v3.oas.annotations.media.ArraySchema;
import io.swagger.v3.oas.annotations.media.Schema;
import tools.jackson.databind.JsonNode;

/**
 * A job's results table: one row per (model, dataset) for evaluate jobs, one per (method, dataset) for
 * merge jobs, each with its loss and token count.
 */
public record JobResults(
        @JsonProperty("job_id") UUID jobId,
        String type,
        @ArraySchema(schema = @Schema(type = "object",
                description = "One result: the model or method, the dataset, loss, tokens, ..."))
        List<JsonNode> rows) {
}
