package dev.consort.tenant;

import java.util.Optional;
import java.util.regex.Pattern;

import jakarta.servlet.http.HttpServletRequest;

import org.springframework.web.context.request.RequestAttributes;
import org.springframework.web.context.request.RequestContextHolder;

/**
 * The tenant whose API key made the HTTP request this thread is serving. It lives in a request
 * attribute, read through {@link RequestContextHolder}, so a thread that serves no request (a worker
 * running a job, a scheduler, an SSE poller) simply has none; nothing here is a request-scoped bean that
 * would fail outside a request. Catalogs restrict reads to the current tenant when there is one; a worker
 * reads the ids its job's spec names, which were checked against the job's tenant when it was submitted.
 */
public final class CurrentTenant {

    /** Owner of everything when no API keys are configured, and of rows from before keys existed. */
    public static final String DEFAULT = "default";

    /** What a tenant name may be: short, lower-case, URL- and label-safe. */
    public static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9._-]{0,63}");

    private static final String ATTRIBUTE = CurrentTenant.class.getName();

    private CurrentTenant() {}

    /** The tenant of the current HTTP request; empty on threads that serve none. */
    public static Optional<String> get() {
        RequestAttributes request = RequestContextHolder.getRequestAttributes();
        if (request == null) {
            return Optional.empty();
        }
        return Optional.ofNullable((String) request.getAttribute(ATTRIBUTE, RequestAttributes.SCOPE_REQUEST));
    }

    /** The current request's tenant, or {@link #DEFAULT} where there is no request. */
    public static String orDefault() {
        return get().orElse(DEFAULT);
    }

    /** Whether the current request may see a row of {@code tenant}; always, where there is no request. */
    public static boolean allows(String tenant) {
        return get().map(current -> current.equals(tenant)).orElse(true);
    }

    /** The tenant of {@code request}, for filters that run before the request context is bound to the thread. */
    static Optional<String> of(HttpServletRequest request) {
        return Optional.ofNullable((String) request.getAttribute(ATTRIBUTE));
    }

    static void set(HttpServletRequest request, String tenant) {
        request.setAttribute(ATTRIBUTE, tenant);
    }
}
