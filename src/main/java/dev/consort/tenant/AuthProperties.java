package dev.consort.tenant;

import java.time.Duration;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * API key settings, bound from {@code consort.auth.*}.
 *
 * @param adminKey    the key that creates and revokes API keys at {@code /admin/keys} (environment
 *                    {@code CONSORT_ADMIN_KEY}); with no admin key and no API key in the database the
 *                    service listens on loopback only and everything belongs to tenant {@code default}
 * @param keyCacheTtl how long a verified key is trusted without asking the database again: a key revoked
 *                    through another process stops working within this time
 * @param failuresPerMinute failed authentications one client address may make per minute; past them its requests
 *                    with no key or an unverified one get 429 without a database lookup
 */
@ConfigurationProperties("consort.auth")
public record AuthProperties(String adminKey, @DefaultValue("10s") Duration keyCacheTtl,
        @DefaultValue("60") int failuresPerMinute) {

    public AuthProperties {
        if (failuresPerMinute < 1) {
            throw new IllegalArgumentException("consort.auth.failures-per-minute must be at least 1");
        }
    }

    public boolean hasAdminKey() {
        return adminKey != null && !adminKey.isBlank();
    }
}
