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
 */
@ConfigurationProperties("consort.auth")
public record AuthProperties(String adminKey, @DefaultValue("10s") Duration keyCacheTtl) {

    public boolean hasAdminKey() {
        return adminKey != null && !adminKey.isBlank();
    }
}
