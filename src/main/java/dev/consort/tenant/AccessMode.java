package dev.consort.tenant;

import java.net.InetAddress;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.web.server.ConfigurableWebServerFactory;
import org.springframework.boot.web.server.WebServerFactoryCustomizer;
import org.springframework.core.env.Environment;
import org.springframework.stereotype.Component;

/**
 * Whether requests must carry an API key, decided once at start: they must when an admin key is
 * configured or the database holds any API key. Otherwise (a developer's machine) every request acts as
 * tenant {@code default} without a key, and so that such an open service is not reachable from the
 * network, it listens on loopback only unless the operator chose {@code server.address} explicitly.
 */
@Component
public class AccessMode implements WebServerFactoryCustomizer<ConfigurableWebServerFactory> {

    private static final Logger log = LoggerFactory.getLogger(AccessMode.class);
    static final int MIN_ADMIN_KEY_LENGTH = 32;

    private final boolean keysRequired;
    private final Environment environment;

    AccessMode(AuthProperties properties, ApiKeys keys, Environment environment) {
        if (properties.hasAdminKey() && properties.adminKey().strip().length() < MIN_ADMIN_KEY_LENGTH) {
            throw new IllegalStateException("consort.auth.admin-key (CONSORT_ADMIN_KEY) must be at least "
                    + MIN_ADMIN_KEY_LENGTH + " characters; openssl rand -hex 32 makes a good one");
        }
        this.keysRequired = properties.hasAdminKey() || keys.anyExist();
        this.environment = environment;
    }

    /** True when every request outside the public endpoints needs {@code Authorization: Bearer <key>}. */
    public boolean keysRequired() {
        return keysRequired;
    }

    @Override
    public void customize(ConfigurableWebServerFactory factory) {
        if (keysRequired) {
            return;
        }
        if (environment.containsProperty("server.address")) {
            log.warn("No API keys are configured (no CONSORT_ADMIN_KEY, none in the database): every request acts "
                    + "as tenant '{}' without a key, on server.address {} as configured",
                    CurrentTenant.DEFAULT, environment.getProperty("server.address"));
            return;
        }
        factory.setAddress(InetAddress.getLoopbackAddress());
        log.warn("No API keys are configured (no CONSORT_ADMIN_KEY, none in the database): listening on {} only, "
                + "every request acts as tenant '{}' without a key. Set CONSORT_ADMIN_KEY to serve the network.",
                InetAddress.getLoopbackAddress().getHostAddress(), CurrentTenant.DEFAULT);
    }
}
