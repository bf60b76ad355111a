package dev.consort.tenant;

import java.time.OffsetDateTime;
import java.util.UUID;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;

import io.swagger.v3.oas.annotations.media.Schema;

/** A key just made: the only time the key itself is shown. */
@JsonInclude(JsonInclude.Include.ALWAYS)
@Schema(name = "CreatedApiKey")
public record CreatedApiKey(
        UUID id,
        String tenant,
        String name,
        String prefix,
        @Schema(description = "The key: send it as Authorization: Bearer <key>. Shown once; only its hash is kept.")
        String key,
        @JsonProperty("upload_limit_bytes") Long uploadLimitBytes,
        @JsonProperty("rate_limit_per_minute") Integer rateLimitPerMinute,
        @JsonProperty("created_at") OffsetDateTime createdAt) {

    static CreatedApiKey of(ApiKeyView view, String key) {
        return new CreatedApiKey(view.id(), view.tenant(), view.name(), view.prefix(), key, view.uploadLimitBytes(),
                view.rateLimitPerMinute(), view.createdAt());
    }
}
