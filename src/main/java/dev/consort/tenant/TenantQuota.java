package dev.consort.tenant;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;

import io.swagger.v3.oas.annotations.media.Schema;

/** A tenant's limits, as the admin sets them ({@code PUT /admin/tenants/{tenant}/quota}); null: the service's default. */
@JsonInclude(JsonInclude.Include.ALWAYS)
@Schema(name = "TenantQuota")
public record TenantQuota(
        @JsonProperty("max_queued_jobs") @Schema(description = "Jobs waiting in the queue at once; one more is "
                + "refused with 429 quota-exceeded. 0 refuses every submission. Null: consort.quotas.max-queued-jobs")
        Integer maxQueuedJobs,
        @JsonProperty("max_running_jobs") @Schema(description = "Jobs running at once; the others wait in the queue. "
                + "Null: consort.quotas.max-running-jobs")
        Integer maxRunningJobs,
        @JsonProperty("max_stored_bytes") @Schema(description = "Bytes of checkpoints, datasets and routed models the "
                + "tenant keeps; an upload past it, or a job submitted at or over it, is refused with 429 "
                + "quota-exceeded. Null: consort.quotas.max-stored-bytes")
        Long maxStoredBytes) {
}
