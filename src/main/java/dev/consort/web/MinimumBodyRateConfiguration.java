package dev.consort.web;

import org.springframework.boot.tomcat.servlet.TomcatServletWebServerFactory;
import org.springframework.boot.web.server.WebServerFactoryCustomizer;
import org.springframework.stereotype.Component;

/** Installs {@link MinimumBodyRateValve} in the embedded Tomcat unless {@code consort.limits.request-body-min-rate} is 0. */
@Component
class MinimumBodyRateConfiguration implements WebServerFactoryCustomizer<TomcatServletWebServerFactory> {

    private final LimitsProperties limits;

    MinimumBodyRateConfiguration(LimitsProperties limits) {
        this.limits = limits;
    }

    @Override
    public void customize(TomcatServletWebServerFactory factory) {
        long minRate = limits.requestBodyMinRate().toBytes();
        if (minRate > 0) {
            factory.addContextValves(new MinimumBodyRateValve(minRate, limits.requestBodyRateGrace().toNanos(),
                    System::nanoTime));
        }
    }
}
