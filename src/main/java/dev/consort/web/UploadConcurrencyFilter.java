package dev.consort.web;

import java.io.IOException;
import java.util.Map;
import java.util.concurrent.Semaphore;

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

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import tools.jackson.databind.json.JsonMapper;

/**
 * At most {@code consort.limits.concurrent-uploads} multipart uploads are handled at once per api process:
 * each holds disk space, a request thread and, while it is validated or tokenized, CPU. One more is
 * refused before its body is read, with a 503 {@code capacity-exceeded} problem and {@code Retry-After},
 * instead of piling up. The permit is taken before the container parses the multipart body, so it covers
 * receiving, validating and storing the upload.
 */
@Component
@Order(Ordered.HIGHEST_PRECEDENCE + 30)
class UploadConcurrencyFilter extends OncePerRequestFilter {

    private final int capacity;
    private final Semaphore permits;
    private final JsonMapper json;

    UploadConcurrencyFilter(LimitsProperties limits, JsonMapper json, MeterRegistry meters) {
        this.capacity = limits.concurrentUploads();
        this.permits = new Semaphore(capacity);
        this.json = json;
        Gauge.builder("consort.uploads.in.progress", this, UploadConcurrencyFilter::inProgress)
                .description("Multipart uploads being received, validated or stored")
                .register(meters);
    }

    /** Uploads holding a permit now. */
    int inProgress() {
        return capacity - permits.availablePermits();
    }

    @Override
    protected boolean shouldNotFilter(HttpServletRequest request) {
        return !UploadRequests.isUpload(request);
    }

    @Override
    protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws ServletException, IOException {
        if (!permits.tryAcquire()) {
            ProblemResponses.write(json, request, response, HttpStatus.SERVICE_UNAVAILABLE,
                    ProblemType.CAPACITY_EXCEEDED, capacity + " uploads are already in progress, the most this "
                            + "server takes at once (consort.limits.concurrent-uploads); retry in "
                            + LimitsProperties.RETRY_AFTER_SECONDS + " s",
                    Map.of(HttpHeaders.RETRY_AFTER, Integer.toString(LimitsProperties.RETRY_AFTER_SECONDS)));
            return;
        }
        try {
            chain.doFilter(request, response);
        } finally {
            permits.release();
        }
    }
}
