package dev.consort.tenant;

import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;

import org.springframework.stereotype.Component;

/**
 * Per-key request rates: a token bucket per key holding up to {@code rate_limit_per_minute} requests,
 * refilled continuously at that rate. Buckets live in this process, so with N api replicas behind a
 * load balancer a key may make up to N times its rate.
 */
@Component
class RequestRateLimiter {

    private final Map<UUID, Bucket> buckets = new ConcurrentHashMap<>();

    /** Takes one request from the key's bucket; returns 0 if allowed, else the seconds until one is. */
    long acquire(UUID keyId, int perMinute) {
        return buckets.computeIfAbsent(keyId, id -> new Bucket(perMinute)).take(perMinute);
    }

    void forget(UUID keyId) {
        buckets.remove(keyId);
    }

    private static final class Bucket {
        private double tokens;
        private long refilledAtNanos = System.nanoTime();

        Bucket(int capacity) {
            this.tokens = capacity;
        }

        synchronized long take(int perMinute) {
            long now = System.nanoTime();
            double perNano = perMinute / 60e9;
            tokens = Math.min(perMinute, tokens + (now - refilledAtNanos) * perNano);
            refilledAtNanos = now;
            if (tokens >= 1) {
                tokens -= 1;
                return 0;
            }
            return Math.max(1, (long) Math.ceil((1 - tokens) / perNano / 1e9));
        }
    }
}
