package dev.consort.web;

import java.util.concurrent.Semaphore;

import jakarta.servlet.http.HttpServletRequest;

import org.springframework.core.Ordered;
import org.springframework.core.annotation.Order;
import org.springframework.http.HttpStatus;
import org.springframework.stereotype.Component;

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
class UploadConcurrencyFilter extends UploadPermitFilter {

    private final int capacity;
    private final Semaphore permits;

    UploadConcurrencyFilter(LimitsProperties limits, JsonMapper json, MeterRegistry meters) {
        super(json);
        this.capacity = limits.concurrentUploads();
        this.permits = new Semaphore(capacity);
        Gauge.builder("consort.uploads.in.progress", this, UploadConcurrencyFilter::inProgress)
                .description("Multipart uploads being received, validated or stored")
                .register(meters);
    }

    /** Uploads holding a permit now. */
    int inProgress() {
        return capacity - permits.availablePermits();
    }

    @Override
    protected Refusal acquire(HttpServletRequest request) {
        return permits.tryAcquire() ? null : new Refusal(HttpStatus.SERVICE_UNAVAILABLE, ProblemType.CAPACITY_EXCEEDED,
                capacity + " uploads are already in progress, the most this server takes at once "
                        + "(consort.limits.concurrent-uploads)");
    }

    @Override
    protected void release(HttpServletRequest request) {
        permits.release();
    }
}
