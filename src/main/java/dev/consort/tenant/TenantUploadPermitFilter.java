package dev.consort.tenant;

import java.io.IOException;
import java.util.HashMap;
import java.util.Map;

import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

import org.springframework.core.Ordered;
import org.springframework.core.annotation.Order;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.stereotype.Component;
import org.springframework.web.filter.OncePerRequestFilter;

import tools.jackson.databind.json.JsonMapper;

import dev.consort.web.LimitsProperties;
import dev.consort.web.ProblemResponses;
import dev.consort.web.ProblemType;
import dev.consort.web.UploadRequests;

/**
 * At most {@code consort.limits.concurrent-uploads-per-tenant} multipart uploads of one tenant at once per api
 * process (issue 16, item 4): without it one tenant trickling slow uploads would hold every one of the process's
 * upload permits ({@code consort.limits.concurrent-uploads}) and block everybody's uploads. Runs after the API key
 * is verified (the tenant is known) and before the process-wide permit is taken, so a refused upload holds
 * neither; one more is refused with 429 {@code too-many-requests} and {@code Retry-After}, before its body is read.
 */
@Component
@Order(Ordered.HIGHEST_PRECEDENCE + 25)
class TenantUploadPermitFilter extends OncePerRequestFilter {

    private final int perTenant;
    private final JsonMapper json;
    private final Map<String, Integer> inProgress = new HashMap<>();

    TenantUploadPermitFilter(LimitsProperties limits, JsonMapper json) {
        this.perTenant = limits.concurrentUploadsPerTenant();
        this.json = json;
    }

    @Override
    protected boolean shouldNotFilter(HttpServletRequest request) {
        return !UploadRequests.isUpload(request);
    }

    @Override
    protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws ServletException, IOException {
        String tenant = CurrentTenant.of(request).orElse(CurrentTenant.DEFAULT);
        if (!acquire(tenant)) {
            ProblemResponses.write(json, request, response, HttpStatus.TOO_MANY_REQUESTS, ProblemType.TOO_MANY_REQUESTS,
                    "Tenant '" + tenant + "' has " + perTenant + " uploads in progress, the most one tenant may send "
                            + "at once (consort.limits.concurrent-uploads-per-tenant); retry in "
                            + LimitsProperties.RETRY_AFTER_SECONDS + " s",
                    Map.of(HttpHeaders.RETRY_AFTER, Integer.toString(LimitsProperties.RETRY_AFTER_SECONDS)));
            return;
        }
        try {
            chain.doFilter(request, response);
        } finally {
            release(tenant);
        }
    }

    private synchronized boolean acquire(String tenant) {
        int held = inProgress.getOrDefault(tenant, 0);
        if (held >= perTenant) {
            return false;
        }
        inProgress.put(tenant, held + 1);
        return true;
    }

    private synchronized void release(String tenant) {
        inProgress.computeIfPresent(tenant, (t, n) -> n > 1 ? n - 1 : null);
    }
}
