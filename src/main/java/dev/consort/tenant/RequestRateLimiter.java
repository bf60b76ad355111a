package dev.consort.tenant;

import java.time.Duration;
import java.util.UUID;

import javax.sql.DataSource;

import org.springframework.stereotype.Component;

import io.github.bucket4j.BucketConfiguration;
import io.github.bucket4j.ConsumptionProbe;
import io.github.bucket4j.distributed.jdbc.PrimaryKeyMapper;
import io.github.bucket4j.distributed.proxy.ProxyManager;
import io.github.bucket4j.postgresql.Bucket4jPostgreSQL;

/**
 * Per-key request rates: a Bucket4j token bucket per key holding up to {@code rate_limit_per_minute}
 * requests, refilled continuously at that rate, stored in PostgreSQL ({@code rate_limit_bucket}, one row
 * locked per request), so every api replica draws from the same bucket and N replicas allow the rate once.
 */
@Component
class RequestRateLimiter {

    private final ProxyManager<UUID> buckets;

    RequestRateLimiter(DataSource dataSource) {
        PrimaryKeyMapper<UUID> uuid = (statement, index, id) -> statement.setObject(index, id);
        this.buckets = Bucket4jPostgreSQL.selectForUpdateBasedBuilder(dataSource)
                .primaryKeyMapper(uuid)
                .table("rate_limit_bucket")
                .build();
    }

    /** Takes one request from the key's bucket; returns 0 if allowed, else the seconds until one is. */
    long acquire(UUID keyId, int perMinute) {
        BucketConfiguration limit = BucketConfiguration.builder()
                .addLimit(bandwidth -> bandwidth.capacity(perMinute).refillGreedy(perMinute, Duration.ofMinutes(1)))
                .build();
        ConsumptionProbe probe = buckets.getProxy(keyId, () -> limit).tryConsumeAndReturnRemaining(1);
        return probe.isConsumed() ? 0 : Math.max(1, (long) Math.ceil(probe.getNanosToWaitForRefill() / 1e9));
    }

    /** Drops a key's bucket (its key was revoked). */
    void forget(UUID keyId) {
        buckets.removeProxy(keyId);
    }
}
