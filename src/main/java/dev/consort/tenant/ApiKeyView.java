package dev.consort.tenant;

import java.time.OffsetDateTime;
import java.util.UUID;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;

import io.swagger.v3.oas.annotations.media.Schema;

/** An API key as the admin sees it: never the key, only its first characters to recognise it by. */
@JsonInclude(JsonInclude.Include.ALWAYS)
@Schema(name = "ApiKey")
public record ApiKeyView(
        UUID id,
        @Schema(description = "The tenant whose checkpoints, datasets and jobs the key sees") String tenant,
        String name,
        @Schema(description = "The key's first characters, to tell keys apart", example = "csk_Q2xhdW") String prefix,
        @JsonProperty("upload_limit_bytes") @Schema(description = "Largest request body the key may send; null: the service's limit")
        Long uploadLimitBytes,
        @JsonProperty("rate_limit_per_minute") @Schema(description = "Requests per minute; null: unlimited")
        Integer rateLimitPerMinute,
        @JsonProperty("created_at") OffsetDateTime createdAt,
        @JsonProperty("revoked_at") @Schema(description = "When it was revoked; null while it works")
        OffsetDateTime revokedAt) {
}
