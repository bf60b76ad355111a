package dev.consort.tenant;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.util.unit.DataSize;

/**
 * The quotas of a tenant the admin set none for, bound from {@code consort.quotas.*}; each unset one is unlimited.
 * The admin overrides them per tenant at {@code PUT /admin/tenants/{tenant}/quota}.
 *
 * @param maxQueuedJobs  jobs a tenant may have waiting in the queue; one more is refused with 429
 * @param maxRunningJobs jobs of a tenant that run at once; the rest wait in the queue (read by the claim, in SQL)
 * @param maxStoredBytes bytes of checkpoints, datasets and routed models a tenant may keep; an upload past it is
 *                       refused with 429, and so is a job submitted while the tenant is at or over it
 */
@ConfigurationProperties("consort.quotas")
public record QuotaProperties(Integer maxQueuedJobs, Integer maxRunningJobs, DataSize maxStoredBytes) {

    public QuotaProperties {
        if ((maxQueuedJobs != null && maxQueuedJobs < 0) || (maxRunningJobs != null && maxRunningJobs < 1)
                || (maxStoredBytes != null && maxStoredBytes.toBytes() < 0)) {
            throw new IllegalArgumentException("consort.quotas: max-queued-jobs must be at least 0, max-running-jobs "
                    + "at least 1, max-stored-bytes at least 0");
        }
    }
}
