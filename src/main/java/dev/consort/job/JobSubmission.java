package dev.consort.job;

import com.fasterxml.jackson.annotation.JsonProperty;

import io.swagger.v3.oas.annotations.media.Schema;
import tools.jackson.databind.JsonNode;

/**
 * The body of {@code POST /jobs}. {@code spec} is validated against the record of {@code type}
 * (documented as a oneOf of the spec records by the OpenAPI customizer).
 *
 * @param device      {@code cpu}, {@code gpu} or {@code any} (default): which workers may run it
 * @param priority    higher runs first; -100 … 100, default 0
 * @param maxAttempts how many times a job whose worker dies is retried before it fails
 */
public record JobSubmission(
        @Schema(description = "Job type", example = "finetune",
                requiredMode = Schema.RequiredMode.REQUIRED)
        String type,
        @Schema(description = "Optional label, at most 200 characters") String name,
        @Schema(description = "Device class: cpu, gpu or any", example = "any") String device,
        @Schema(description = "Higher runs first, -100 to 100", example = "0") Integer priority,
        @JsonProperty("max_attempts") @Schema(description = "Claims before a job whose worker keeps dying fails, 1 to 20")
        Integer maxAttempts,
        @Schema(description = "Type-specific settings", requiredMode = Schema.RequiredMode.REQUIRED)
        JsonNode spec) {
}
