package dev.consort.tenant;

import java.util.HashMap;
import java.util.Map;

import jakarta.servlet.http.HttpServletRequest;

import org.springframework.core.Ordered;
import org.springframework.core.annotation.Order;
import org.springframework.http.HttpStatus;
import org.springframework.stereotype.Component;

import tools.jackson.databind.json.JsonMapper;

import dev.consort.web.LimitsProperties;
import dev.consort.web.ProblemType;
import dev.consort.web.UploadPermitFilter;

/**
 * At most {@code consort.limits.concurrent-uploads-per-tenant} multipart uploads of one tenant at once per api
 * process (issue 16, item 4): without it one tenant trickling slow uploads would hold every one of the process's
 * upload permits ({@code consort.limits.concurrent-uploads}) and block everybody's uploads. Runs after the API key
 * is verified (the tenant is known) and before the process-wide permit is taken, so a refused upload holds
 * neither; one more is refused with 429 {@code too-many-requests} and {@code Retry-After}, before its body is read.
 */
@Component
@Order(Ordered.HIGHEST_PRECEDENCE + 25)
class TenantUploadPermitFilter extends UploadPermitFilter {

    private final int perTenant;
    private final Map<String, Integer> inProgress = new HashMap<>();

    TenantUploadPermitFilter(LimitsProperties limits, JsonMapper json) {
        super(json);
        this.perTenant = limits.concurrentUploadsPerTenant();
    }

    @Override
    protected synchronized Refusal acquire(HttpServletRequest request) {
        String tenant = tenantOf(request);
        int held = inProgress.getOrDefault(tenant, 0);
        if (held >= perTenant) {
            return new Refusal(HttpStatus.TOO_MANY_REQUESTS, ProblemType.TOO_MANY_REQUESTS, "Tenant '" + tenant
                    + "' has " + held + " uploads in progress, the most one tenant may send at once "
                    + "(consort.limits.concurrent-uploads-per-tenant)");
        }
        inProgress.put(tenant, held + 1);
        return null;
    }

    @Override
    protected synchronized void release(HttpServletRequest request) {
        inProgress.computeIfPresent(tenantOf(request), (t, n) -> n > 1 ? n - 1 : null);
    }

    /** The request's tenant, from its attribute: this filter runs before the request context is bound. */
    private static String tenantOf(HttpServletRequest request) {
        return CurrentTenant.of(request).orElse(CurrentTenant.DEFAULT);
    }
}
