package dev.consort.tenant;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

import org.springframework.core.Ordered;
import org.springframework.core.annotation.Order;
import org.springframework.dao.DataAccessException;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.stereotype.Component;
import org.springframework.web.filter.OncePerRequestFilter;

import dev.consort.web.ProblemResponses;
import dev.consort.database.DatabaseUnavailable;
import dev.consort.web.ProblemType;
import tools.jackson.databind.json.JsonMapper;

/**
 * Authenticates every request before Spring MVC sees it: {@code Authorization: Bearer <key>} names a
 * tenant's API key (its requests act as that tenant, within the key's rate and upload limits) or the
 * admin key (which may only manage keys, under {@code /admin}). Failures are answered here, as
 * problem+json: 401 with {@code WWW-Authenticate: Bearer} for a missing, unknown or revoked key, 403 for
 * a key used outside its reach, 429 with {@code Retry-After} beyond a key's rate or an address's failed
 * authentications ({@link FailedAuthenticationLimiter}), 413 or 411 for uploads beyond a key's limit.
 * Health, metrics, the API description and the dashboard's static files need no key. With no keys configured at all
 * ({@link AccessMode}) every request acts as tenant {@code default}.
 */
@Component
@Order(Ordered.HIGHEST_PRECEDENCE + 10)
class ApiKeyFilter extends OncePerRequestFilter {

    private static final String REALM = "Bearer realm=\"consort\"";
    /** The dashboard's page and assets are public: they hold no data, and every API call they make sends a key. */
    private static final List<String> PUBLIC_PREFIXES = List.of("/actuator/", "/v3/api-docs", "/swagger-ui", "/assets/");
    private static final List<String> PUBLIC_PATHS = List.of("/actuator", "/swagger-ui.html", "/error", "/",
            "/index.html");
    /** Path forms a client never needs and that could make this filter and the router disagree on a path. */
    private static final List<String> AMBIGUOUS = List.of(";", "%2e", "%2f", "%5c", "\\", "//", "/./", "/../");

    private final AccessMode mode;
    private final ApiKeys keys;
    private final RequestRateLimiter rates;
    private final FailedAuthenticationLimiter failures;
    private final JsonMapper json;
    private final byte[] adminKeyHash;

    ApiKeyFilter(AccessMode mode, ApiKeys keys, RequestRateLimiter rates, FailedAuthenticationLimiter failures,
            JsonMapper json, AuthProperties properties) {
        this.mode = mode;
        this.failures = failures;
        this.keys = keys;
        this.rates = rates;
        this.json = json;
        this.adminKeyHash = properties.hasAdminKey() ? digest(properties.adminKey().strip()) : null;
    }

    @Override
    protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws ServletException, IOException {
        String path = request.getServletPath() + (request.getPathInfo() == null ? "" : request.getPathInfo());
        boolean adminPath = path.equals("/admin") || path.startsWith("/admin/");
        if (!mode.keysRequired()) {
            if (adminPath) {
                problem(request, response, HttpStatus.FORBIDDEN, ProblemType.FORBIDDEN,
                        "API keys and tenant quotas are managed with the admin key: start the service with CONSORT_ADMIN_KEY set", Map.of());
                return;
            }
            CurrentTenant.set(request, CurrentTenant.DEFAULT);
            chain.doFilter(request, response);
            return;
        }
        String rawPath = request.getRequestURI().substring(request.getContextPath().length());
        String lowerPath = rawPath.toLowerCase(Locale.ROOT);
        if (AMBIGUOUS.stream().anyMatch(lowerPath::contains) || lowerPath.endsWith("/.") || lowerPath.endsWith("/..")) {
            problem(request, response, HttpStatus.BAD_REQUEST, ProblemType.BAD_REQUEST,
                    "The request path is not in canonical form", Map.of());
            return;
        }
        if (isPublic(path)) {
            chain.doFilter(request, response);
            return;
        }
        Optional<String> key = bearer(request);
        String address = request.getRemoteAddr();
        if (key.isEmpty()) {
            if (!tooManyFailures(address, request, response)) {
                failures.failed(address);
                problem(request, response, HttpStatus.UNAUTHORIZED, ProblemType.UNAUTHORIZED,
                        "Send an API key: Authorization: Bearer <key>", Map.of(HttpHeaders.WWW_AUTHENTICATE, REALM));
            }
            return;
        }
        if (adminKeyHash != null && MessageDigest.isEqual(adminKeyHash, digest(key.get()))) {
            if (adminPath) {
                chain.doFilter(request, response);
            } else {
                problem(request, response, HttpStatus.FORBIDDEN, ProblemType.FORBIDDEN,
                        "The admin key only manages API keys and tenant quotas (/admin); use a tenant's API key here", Map.of());
            }
            return;
        }
        Optional<ApiKeyGrant> grant = keys.recentlyVerified(key.get());
        if (grant.isEmpty()) {
            // Past its failures, an address's unverified keys are refused before any database lookup.
            if (tooManyFailures(address, request, response)) {
                return;
            }
            try {
                grant = keys.verify(key.get());
            } catch (DataAccessException e) {
                logger.warn("Cannot verify API keys: " + e);
                databaseUnavailable(request, response);
                return;
            }
        }
        if (grant.isEmpty()) {
            failures.failed(address);
            problem(request, response, HttpStatus.UNAUTHORIZED, ProblemType.UNAUTHORIZED,
                    "The API key is unknown or revoked",
                    Map.of(HttpHeaders.WWW_AUTHENTICATE, REALM + ", error=\"invalid_token\""));
            return;
        }
        if (adminPath) {
            problem(request, response, HttpStatus.FORBIDDEN, ProblemType.FORBIDDEN,
                    "Managing API keys and tenant quotas (/admin) needs the admin key", Map.of());
            return;
        }
        if (!withinLimits(grant.get(), request, response)) {
            return;
        }
        CurrentTenant.set(request, grant.get().tenant());
        chain.doFilter(request, response);
    }

    private void databaseUnavailable(HttpServletRequest request, HttpServletResponse response) throws IOException {
        problem(request, response, HttpStatus.SERVICE_UNAVAILABLE, ProblemType.DATABASE_UNAVAILABLE,
                "The metadata database is unavailable; retry shortly", Map.of(HttpHeaders.RETRY_AFTER, "5"));
    }

    /** Answers 429 and returns true when {@code address} has used up its failed authentications for now. */
    private boolean tooManyFailures(String address, HttpServletRequest request, HttpServletResponse response)
            throws IOException {
        long waitSeconds = failures.secondsUntilAllowed(address);
        if (waitSeconds == 0) {
            return false;
        }
        problem(request, response, HttpStatus.TOO_MANY_REQUESTS, ProblemType.TOO_MANY_REQUESTS,
                "Too many requests without a valid API key from " + address + " (at most " + failures.perMinute()
                        + " a minute); retry in " + waitSeconds + " s", Map.of(HttpHeaders.RETRY_AFTER,
                        Long.toString(waitSeconds)));
        return true;
    }

    private boolean withinLimits(ApiKeyGrant grant, HttpServletRequest request, HttpServletResponse response)
            throws IOException {
        if (grant.rateLimitPerMinute() != null) {
            long waitSeconds;
            try {
                waitSeconds = rates.acquire(grant.keyId(), grant.rateLimitPerMinute());
            } catch (RuntimeException e) {
                if (!DatabaseUnavailable.isCause(e)) {
                    throw e;
                }
                logger.warn("Cannot take from the key's rate bucket: " + e);
                databaseUnavailable(request, response);
                return false;
            }
            if (waitSeconds > 0) {
                problem(request, response, HttpStatus.TOO_MANY_REQUESTS, ProblemType.TOO_MANY_REQUESTS,
                        "This key may make " + grant.rateLimitPerMinute() + " requests per minute; retry in "
                                + waitSeconds + " s", Map.of(HttpHeaders.RETRY_AFTER, Long.toString(waitSeconds)));
                return false;
            }
        }
        if (grant.uploadLimitBytes() != null) {
            long length = request.getContentLengthLong();
            if (length > grant.uploadLimitBytes()) {
                problem(request, response, HttpStatus.PAYLOAD_TOO_LARGE, ProblemType.PAYLOAD_TOO_LARGE,
                        "The request body is " + length + " bytes; this key may send at most "
                                + grant.uploadLimitBytes(), Map.of());
                return false;
            }
            // A body of unknown length (chunked) could exceed the limit only once it has been read.
            if (length < 0 && request.getHeader(HttpHeaders.TRANSFER_ENCODING) != null) {
                problem(request, response, HttpStatus.LENGTH_REQUIRED, ProblemType.LENGTH_REQUIRED,
                        "This key has an upload limit: send Content-Length instead of a chunked body", Map.of());
                return false;
            }
        }
        return true;
    }

    private static boolean isPublic(String path) {
        return PUBLIC_PATHS.contains(path) || PUBLIC_PREFIXES.stream().anyMatch(path::startsWith);
    }

    private static Optional<String> bearer(HttpServletRequest request) {
        String header = request.getHeader(HttpHeaders.AUTHORIZATION);
        if (header == null || header.length() <= 7 || !header.regionMatches(true, 0, "Bearer ", 0, 7)) {
            return Optional.empty();
        }
        String key = header.substring(7).strip();
        return key.isEmpty() ? Optional.empty() : Optional.of(key);
    }

    private void problem(HttpServletRequest request, HttpServletResponse response, HttpStatus status, ProblemType type,
            String detail, Map<String, String> headers) throws IOException {
        ProblemResponses.write(json, request, response, status, type, detail, headers);
    }

    private static byte[] digest(String key) {
        return ApiKeys.sha256(key).getBytes(StandardCharsets.US_ASCII);
    }
}
