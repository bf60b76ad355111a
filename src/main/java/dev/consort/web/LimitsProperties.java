package dev.consort.web;

import java.time.Duration;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.util.unit.DataSize;

/**
 * What one api process takes on at once, bound from {@code consort.limits.*}: beyond these a request is
 * refused with a problem and a {@code Retry-After} rather than queued in memory.
 *
 * @param concurrentUploads        multipart uploads (checkpoints, datasets) handled at the same time; the
 *                                 next one gets 503 {@code capacity-exceeded}
 * @param concurrentUploadsPerTenant multipart uploads of one tenant handled at the same time; the next one
 *                                 gets 429 {@code too-many-requests}
 * @param requestBody              largest body of a request that is not a multipart upload (JSON, YAML);
 *                                 larger ones get 413 {@code payload-too-large}
 * @param eventStreams             open Server-Sent Event streams ({@code GET /jobs/{id}/events}); the next
 *                                 one gets 503 {@code capacity-exceeded}
 * @param eventStreamsPerTenant    open event streams of one tenant; the next one gets 429
 *                                 {@code too-many-requests}
 * @param eventStreamHeartbeat     how often a quiet event stream sends a comment; a client that went away
 *                                 frees its stream's slot at the next one
 * @param eventStreamWriteTimeout  how long one write to an event stream may block (a client that stopped
 *                                 reading); past it the stream is closed and its slot freed, and a completion
 *                                 stream stops generating
 * @param requestBodyMinRate       least average rate, per second, at which any request body (uploads above all)
 *                                 must arrive once {@code requestBodyRateGrace} has passed; slower ones get 408
 *                                 {@code request-timeout} and free their thread and permit. 0 turns it off
 * @param requestBodyRateGrace     how long a body may arrive slower than {@code requestBodyMinRate}, from its first
 *                                 byte read
 */
@ConfigurationProperties("consort.limits")
public record LimitsProperties(
        @DefaultValue("8") int concurrentUploads,
        @DefaultValue("4") int concurrentUploadsPerTenant,
        @DefaultValue("1MB") DataSize requestBody,
        @DefaultValue("200") int eventStreams,
        @DefaultValue("20") int eventStreamsPerTenant,
        @DefaultValue("15s") Duration eventStreamHeartbeat,
        @DefaultValue("30s") Duration eventStreamWriteTimeout,
        @DefaultValue("16KB") DataSize requestBodyMinRate,
        @DefaultValue("10s") Duration requestBodyRateGrace) {

    /** Seconds a refused client is told to wait before retrying. */
    public static final int RETRY_AFTER_SECONDS = 5;

    public LimitsProperties {
        if (concurrentUploads < 1 || concurrentUploadsPerTenant < 1 || eventStreams < 1 || eventStreamsPerTenant < 1) {
            throw new IllegalArgumentException("consort.limits.concurrent-uploads, concurrent-uploads-per-tenant, "
                    + "event-streams and event-streams-per-tenant must be at least 1");
        }
        if (requestBody.toBytes() < 1 || eventStreamHeartbeat.isNegative() || eventStreamHeartbeat.isZero()
                || eventStreamWriteTimeout.isNegative() || eventStreamWriteTimeout.isZero()) {
            throw new IllegalArgumentException("consort.limits.request-body, event-stream-heartbeat and "
                    + "event-stream-write-timeout must be positive");
        }
        if (requestBodyMinRate.toBytes() < 0 || requestBodyRateGrace.isNegative()) {
            throw new IllegalArgumentException("consort.limits.request-body-min-rate and request-body-rate-grace "
                    + "must not be negative");
        }
    }
}
