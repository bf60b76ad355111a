package dev.consort.tenant;

import com.fasterxml.jackson.annotation.JsonProperty;

import io.swagger.v3.oas.annotations.media.Schema;

/** The body of {@code POST /admin/keys}. */
@Schema(name = "NewApiKey")
public record NewApiKey(
        @Schema(description = "Tenant the key belongs to: 1-64 of a-z, 0-9, '.', '_', '-', starting with a letter or digit",
                example = "team-a", requiredMode = Schema.RequiredMode.REQUIRED)
        String tenant,
        @Schema(description = "Who or what uses the key, at most 200 characters", example = "alice laptop",
                requiredMode = Schema.RequiredMode.REQUIRED)
        String name,
        @JsonProperty("upload_limit_bytes")
        @Schema(description = "Largest request body (an upload) the key may send, in bytes; default: the service's limit")
        Long uploadLimitBytes,
        @JsonProperty("rate_limit_per_minute")
        @Schema(description = "Requests per minute, in bursts of up to as many; default: unlimited")
        Integer rateLimitPerMinute) {
}
