package dev.consort.web;

import java.io.IOException;
import java.util.Map;

import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.web.filter.OncePerRequestFilter;

import tools.jackson.databind.json.JsonMapper;

/**
 * A limit on the multipart uploads (checkpoints, datasets) in progress: a permit is taken before the body is read
 * and given back when the request ends; without one the upload is refused at once with a problem and
 * {@code Retry-After}, before its body is read.
 */
public abstract class UploadPermitFilter extends OncePerRequestFilter {

    /** Why an upload gets no permit: the problem's status, type and detail. */
    public record Refusal(HttpStatus status, ProblemType type, String detail) {}

    private final JsonMapper json;

    protected UploadPermitFilter(JsonMapper json) {
        this.json = json;
    }

    /** Takes a permit for {@code request}: null when taken, else why not. */
    protected abstract Refusal acquire(HttpServletRequest request);

    /** Gives back the permit {@link #acquire} took for {@code request}. */
    protected abstract void release(HttpServletRequest request);

    @Override
    protected boolean shouldNotFilter(HttpServletRequest request) {
        String contentType = request.getContentType();
        return !"POST".equals(request.getMethod()) || contentType == null
                || !contentType.regionMatches(true, 0, "multipart/", 0, 10);
    }

    @Override
    protected final void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws ServletException, IOException {
        Refusal refusal = acquire(request);
        if (refusal != null) {
            ProblemResponses.write(json, request, response, refusal.status(), refusal.type(), refusal.detail()
                            + "; retry in " + LimitsProperties.RETRY_AFTER_SECONDS + " s",
                    Map.of(HttpHeaders.RETRY_AFTER, Integer.toString(LimitsProperties.RETRY_AFTER_SECONDS)));
            return;
        }
        try {
            chain.doFilter(request, response);
        } finally {
            release(request);
        }
    }
}
