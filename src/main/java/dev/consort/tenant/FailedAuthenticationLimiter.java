package dev.consort.tenant;

import java.time.Duration;

import org.springframework.stereotype.Component;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;

import io.github.bucket4j.Bucket;

/**
 * Failed authentications per client address (issue 16, item 8): each address may fail {@code
 * consort.auth.failures-per-minute} times a minute (a local token bucket, refilled continuously). Past that, its
 * requests without a key, and with a key this process has not verified recently, are refused with 429 before any
 * database lookup, so a client cycling made-up keys costs nothing. Keys verified within the key cache's TTL keep
 * working from the same address. In memory, per api process: each replica counts its own.
 */
@Component
class FailedAuthenticationLimiter {

    private static final int MAX_ADDRESSES = 100_000;

    private final int perMinute;
    private final Cache<String, Bucket> buckets;

    FailedAuthenticationLimiter(AuthProperties properties) {
        this.perMinute = properties.failuresPerMinute();
        this.buckets = Caffeine.newBuilder().maximumSize(MAX_ADDRESSES).expireAfterAccess(Duration.ofMinutes(10)).build();
    }

    /** Seconds until {@code address} may fail again; 0 while it still may. */
    long secondsUntilAllowed(String address) {
        Bucket bucket = buckets.getIfPresent(address);
        if (bucket == null) {
            return 0;
        }
        var probe = bucket.estimateAbilityToConsume(1);
        return probe.canBeConsumed() ? 0 : Math.max(1, (long) Math.ceil(probe.getNanosToWaitForRefill() / 1e9));
    }

    /** Counts one failed authentication of {@code address}. */
    void failed(String address) {
        buckets.get(address, a -> Bucket.builder()
                .addLimit(limit -> limit.capacity(perMinute).refillGreedy(perMinute, Duration.ofMinutes(1)))
                .build()).tryConsume(1);
    }

    int perMinute() {
        return perMinute;
    }

    /** Forgets every address's failures (tests: each starts with a full budget). */
    void forgetAll() {
        buckets.invalidateAll();
    }
}
