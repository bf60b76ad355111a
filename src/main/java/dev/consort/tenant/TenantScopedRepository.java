package dev.consort.tenant;

import java.util.List;
import java.util.UUID;

import org.springframework.data.domain.Limit;
import org.springframework.data.repository.NoRepositoryBean;
import org.springframework.data.repository.Repository;

/**
 * Cursor pages of a table keyed by time-ordered ids (UUIDv7) and owned by tenants: newest first, for
 * the calling tenant, or across all tenants where no tenant applies (open access, the admin).
 */
@NoRepositoryBean
public interface TenantScopedRepository<T> extends Repository<T, UUID> {

    List<T> findAllByOrderByIdDesc(Limit limit);

    List<T> findByIdLessThanOrderByIdDesc(UUID after, Limit limit);

    List<T> findByTenantOrderByIdDesc(String tenant, Limit limit);

    List<T> findByTenantAndIdLessThanOrderByIdDesc(String tenant, UUID after, Limit limit);

    /**
     * Up to {@code limit} rows created before {@code after} (from the newest when null), newest first.
     *
     * @param tenant the tenant whose rows to list, or null for every tenant's
     */
    default List<T> newestFirst(String tenant, UUID after, Limit limit) {
        if (tenant == null) {
            return after == null ? findAllByOrderByIdDesc(limit) : findByIdLessThanOrderByIdDesc(after, limit);
        }
        return after == null ? findByTenantOrderByIdDesc(tenant, limit)
                : findByTenantAndIdLessThanOrderByIdDesc(tenant, after, limit);
    }
}
