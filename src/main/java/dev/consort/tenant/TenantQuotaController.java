package dev.consort.tenant;

import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.DeleteMapping;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PutMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RestController;

import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.responses.ApiResponse;
import io.swagger.v3.oas.annotations.tags.Tag;

/** Tenants' quotas: set by the admin under {@code /admin}, read by each tenant at {@code /quota}. */
@Tag(name = "quotas", description = "Per-tenant quotas on queued jobs, running jobs and stored bytes")
@RestController
class TenantQuotaController {

    private final TenantQuotas quotas;

    TenantQuotaController(TenantQuotas quotas) {
        this.quotas = quotas;
    }

    @Operation(operationId = "getQuota", summary = "The calling tenant's quotas and usage")
    @GetMapping(path = "/quota", produces = MediaType.APPLICATION_JSON_VALUE)
    TenantQuotaView mine() {
        return quotas.view(CurrentTenant.orDefault());
    }

    @Operation(operationId = "getTenantQuota", summary = "A tenant's quotas and usage (admin key)")
    @GetMapping(path = "/admin/tenants/{tenant}/quota", produces = MediaType.APPLICATION_JSON_VALUE)
    TenantQuotaView get(@PathVariable String tenant) {
        return quotas.view(tenant);
    }

    @Operation(operationId = "setTenantQuota", summary = "Set a tenant's quotas (admin key)",
            description = "Replaces all three; a null or missing field falls back to the service's default "
                    + "(consort.quotas.*). Jobs already queued or running are not touched: the running limit applies "
                    + "from the next claim, the others from the next submission or upload.")
    @PutMapping(path = "/admin/tenants/{tenant}/quota", consumes = MediaType.APPLICATION_JSON_VALUE,
            produces = MediaType.APPLICATION_JSON_VALUE)
    TenantQuotaView set(@PathVariable String tenant, @RequestBody TenantQuota quota) {
        return quotas.set(tenant, quota);
    }

    @Operation(operationId = "resetTenantQuota", summary = "Drop a tenant's quotas: the defaults apply (admin key)")
    @ApiResponse(responseCode = "204", description = "The service's defaults apply to the tenant")
    @DeleteMapping("/admin/tenants/{tenant}/quota")
    ResponseEntity<Void> reset(@PathVariable String tenant) {
        quotas.reset(tenant);
        return ResponseEntity.noContent().build();
    }
}
