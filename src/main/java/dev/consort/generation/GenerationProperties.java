package dev.consort.generation;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.util.unit.DataSize;

/**
 * What text generation may take in one api process, bound from {@code consort.generation.*}.
 *
 * @param concurrentRequests completion requests generating at once; the next gets 503 {@code capacity-exceeded}
 *                           with {@code Retry-After}. Each runs on its request thread, beside the job workers
 * @param modelCache         the weights kept loaded between requests (least recently used first out); a model in
 *                           use is never closed under its request
 */
@ConfigurationProperties("consort.generation")
public record GenerationProperties(
        @DefaultValue("2") int concurrentRequests,
        @DefaultValue("1GB") DataSize modelCache) {

    public GenerationProperties {
        if (concurrentRequests < 1) {
            throw new IllegalArgumentException("consort.generation.concurrent-requests must be at least 1");
        }
        if (modelCache.toBytes() < 0) {
            throw new IllegalArgumentException("consort.generation.model-cache must not be negative");
        }
    }
}
