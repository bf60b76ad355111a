package dev.consort.tenant;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;

import io.swagger.v3.oas.annotations.media.Schema;

/**
 * A tenant's quotas and what it uses of them now.
 *
 * @param set   what the admin set for this tenant (null fields fall back to the service's defaults)
 * @param limit the limits in force: the admin's where set, else the service's default; null: unlimited
 * @param usage what the tenant has now
 */
@JsonInclude(JsonInclude.Include.ALWAYS)
@Schema(name = "TenantQuotaStatus")
public record TenantQuotaView(String tenant, TenantQuota set, TenantQuota limit, Usage usage) {

    @Schema(name = "TenantUsage")
    public record Usage(
            @JsonProperty("queued_jobs") long queuedJobs,
            @JsonProperty("running_jobs") long runningJobs,
            @JsonProperty("stored_bytes") @Schema(description = "Checkpoints, datasets and routed models, each counted "
                    + "in full even where two share identical bytes") long storedBytes) {
    }
}
